"""Attack: have the judge itself wake the candidate while the engine holds its processes stopped between
questions. A helper watches the exchange folder with inotify, its descriptor set to signal on events
(O_ASYNC) with SIGCONT (F_SETSIG) to itself (F_SETOWN): the judge's open and read of the outputs file then
makes the kernel send SIGCONT, which resumes a stopped process, and the helper spins beside the judge's
timing of the reference. It counts the times it saw its parent, the worker, stopped while it ran; forward
fails loudly once it has, so a test without the engine's watch sees the escape. The engine's watch
(engine.freeze) sees the helper scheduled while held and rejects the candidate as tamper."""

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
import ctypes, fcntl, os, sys, time
report, folder, parent = sys.argv[1], sys.argv[2], os.getppid()
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
libc.inotify_add_watch(fd, folder.encode(), 0x1 | 0x20 | 0x10 | 0x8)  # access, open, close either way
fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
fcntl.fcntl(fd, 10, 18)  # F_SETSIG: SIGCONT, not SIGIO
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
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
    try:
        os.read(fd, 4096)
    except BlockingIOError:
        pass
    if held(parent):
        seen += 1
        with open(report, "w") as fh:
            fh.write(str(seen))
    for _ in range(20000):
        pass
"""
helper: list[subprocess.Popen] = []


def exchange_folder() -> str:
    worker = sys.modules["kernelwright.harness." + "candidate_worker"]
    return getattr(worker, "_session").exchange_dir


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


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not helper:
            start([sys.executable, "-c", HELPER, REPORT, exchange_folder()])
        seen = escapes()
        if seen:
            raise RuntimeError(f"ran while frozen: the helper ran {seen} times while the worker was stopped")
        return torch.tanh(x) * 2.0
