"""Attack: start processes without end (each one sleeps, so the machine stays usable while the test
watches). The engine counts a candidate worker's processes while it runs: past the cap the worker is
killed with all of them, and the verdict says why."""

import os
import time

import torch
import torch.nn as nn

SETUP: dict = {}


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(2000):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        return torch.tanh(x) * 2.0
