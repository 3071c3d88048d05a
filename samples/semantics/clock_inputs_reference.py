"""Reference problem (KernelBench form) whose input factory is not deterministic: it adds a number taken
from the clock, so the same seed draws other inputs each time. Candidates cannot be judged on it, and the
verdict says so and blames the problem (`problem`), never the candidate, because the judge saw its own
two draws differ.
"""

import time

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(64, 64) + (time.perf_counter_ns() % 1000) / 1000.0]


def get_init_inputs():
    return []
