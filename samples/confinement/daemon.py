"""Attack: leave processes running after the job, three ways: a classic double fork with setsid, a
subprocess in a new session, and a shell job put in the background. Each carries SETUP's token in its
command line so the test can look for it. It computes the right answer. In the box every one dies with
the job (its PID namespace ends with its first process)."""

import os
import subprocess
import sys

import torch
import torch.nn as nn

SETUP: dict = {}  # filled in by the test: {"token": str}

token = SETUP.get("token", "kw-daemon")
sleeper = [sys.executable, "-c", f"import time\nwhile True: time.sleep(1)  # {token}"]

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper)
    os._exit(0)
subprocess.Popen(sleeper, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen(["sh", "-c", f"nohup sleep 100{len(token)} >/dev/null 2>&1 & # {token}"])


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 2.0
