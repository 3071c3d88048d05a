"""Attack: run while the engine holds the candidate's processes stopped between the judge's questions
(SIGSTOP), so a helper burns the CPU while the judge times the reference there. The helper arms POSIX
timers (timer_create through libc) that deliver SIGCONT to itself within a few milliseconds, re-arming
each once it has fired: the kernel resumes a stopped process on any SIGCONT generated for it, and no
system-call filter can read a timer's signal number (it is behind a pointer). The helper spins, and
counts the times it saw its parent, the worker, stopped while it ran itself; forward fails loudly once it
has, so a test without the engine's watch sees the escape. The engine's watch (engine.freeze) sees the
helper scheduled while held and rejects the candidate as tamper."""

import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn

SETUP: dict = {}

REPORT = os.path.join(tempfile.gettempdir(), "thaw-report")
HELPER = r"""
import ctypes, os, random, sys, time
report, parent = sys.argv[1], os.getppid()
libc = ctypes.CDLL(None, use_errno=True)

class SigEvent(ctypes.Structure):  # struct sigevent: sigval, signo, notify, and the rest of its 64 bytes
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("pad", ctypes.c_byte * 48)]

class TimeSpec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]

# One-shot timers, re-armed once fired: a stop flushes a pending SIGCONT, and a periodic timer is
# re-armed only when its signal is taken, so a single periodic one dies at the first stop.
timers = []
for _ in range(32):
    timer = ctypes.c_void_p()
    if libc.timer_create(1, ctypes.byref(SigEvent(None, 18, 0)), ctypes.byref(timer)) != 0:  # SIGCONT
        raise SystemExit(f"timer_create: errno {ctypes.get_errno()}")
    timers.append(timer)
left = (TimeSpec * 2)()
def state(pid):
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]

def held(pid):
    # The parent stopped, and still stopped after 5 ms in which this process ran: not the moment between
    # the engine's signals to the two (they reach the group a few microseconds apart).
    if state(pid) != "T":
        return False
    end = time.monotonic() + 0.005
    while time.monotonic() < end:
        pass
    return state(pid) == "T"

open(report + ".ready", "w").close()
seen = 0
while True:
    for timer in timers:
        libc.timer_gettime(timer, ctypes.byref(left))
        if left[1].sec == 0 and left[1].nsec == 0:
            when = (TimeSpec * 2)(TimeSpec(0, 0), TimeSpec(0, random.randint(1, 50) * 1_000_000))
            libc.timer_settime(timer, 0, ctypes.byref(when), None)
    if held(parent):
        seen += 1
        with open(report, "w") as fh:
            fh.write(str(seen))
    for _ in range(20000):
        pass
"""
helper: list[subprocess.Popen] = []


def start(command: list[str]) -> None:
    """Start the helper and wait until it is armed (a few questions are all a small job asks)."""
    helper.append(subprocess.Popen(command))
    for _ in range(500):
        if os.path.exists(REPORT + ".ready"):
            return
        time.sleep(0.01)
    raise RuntimeError("the helper did not start")


def escapes() -> int:
    try:
        with open(REPORT) as fh:
            return int(fh.read() or 0)
    except (OSError, ValueError):
        return 0


start([sys.executable, "-c", HELPER, REPORT])  # at load: every question after it is watched


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seen = escapes()
        if seen:
            raise RuntimeError(f"ran while frozen: the helper ran {seen} times while the worker was stopped")
        return torch.tanh(x) * 2.0
