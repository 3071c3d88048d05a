"""Cheat: replaces time.perf_counter and torch.cuda.synchronize at import, so timings read what it likes.

Caught by: tamper (the static scan sees the assignments before the code runs).
"""

import time

import torch
import torch.nn as nn

_start = time.perf_counter()
time.perf_counter = lambda: _start
torch.cuda.synchronize = lambda *args, **kwargs: None


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(features) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(x) * self.scale
