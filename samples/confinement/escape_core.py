"""Attack: leave the core the engine put it on (the judge's, engine.placement) for the whole machine, so
that on a busy machine it runs on an idle core while the reference shares a busy one. Four ways: Python's
os.sched_setaffinity, the raw system call through libc, a thread that widens its own affinity, and a
child process that widens its own. In forward it reports every affinity it can see; if any of them holds
more than one CPU it has escaped, and it fails loudly so the test sees it. Otherwise it computes the right
answer. In the box the system call fails with EPERM (the seccomp filter)."""

import ctypes
import os
import subprocess
import sys
import threading

import torch
import torch.nn as nn

SETUP: dict = {}

everything = set(range(os.cpu_count() or 1))
tried: list[str] = []


def widen_python() -> None:
    try:
        os.sched_setaffinity(0, everything)
    except OSError as exc:
        tried.append(f"os.sched_setaffinity: {exc.strerror}")


def widen_libc() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    mask = (ctypes.c_ulong * 16)()
    for cpu in everything:
        mask[cpu // 64] |= 1 << (cpu % 64)
    if libc.sched_setaffinity(0, ctypes.sizeof(mask), mask) != 0:
        tried.append(f"libc sched_setaffinity: errno {ctypes.get_errno()}")


def widen_thread() -> None:
    seen: list[set[int]] = []

    def run() -> None:
        widen_python()
        seen.append(os.sched_getaffinity(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if seen and len(seen[0]) > 1:
        tried.append(f"ESCAPED in a thread: {sorted(seen[0])}")


def widen_child() -> None:
    code = (
        "import os\n"
        "try:\n    os.sched_setaffinity(0, set(range(os.cpu_count())))\nexcept OSError:\n    pass\n"
        "print(len(os.sched_getaffinity(0)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.stdout.strip() not in ("", "1"):
        tried.append(f"ESCAPED in a child process: {done.stdout.strip()} CPUs")


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not tried:  # once, while the engine has it pinned (it is pinned before its code is loaded)
            widen_python()
            widen_libc()
            widen_thread()
            widen_child()
            tried.append("done")
        mine = os.sched_getaffinity(0)
        if len(mine) > 1 or any(t.startswith("ESCAPED") for t in tried):
            raise RuntimeError(f"escaped the shared core: now on CPUs {sorted(mine)}; {tried}")
        return torch.tanh(x) * 2.0
