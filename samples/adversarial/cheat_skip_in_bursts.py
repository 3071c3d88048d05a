"""Cheat: tells a timed block from the judge's checks by the pace of its calls (a check comes after a round
trip to the judge and the judge's own work, tens of milliseconds on a CPU; in a block, calls follow one
another within a few: the pace of its first calls, slowed or not by a busy machine, sets the bar), and
then computes only the first half of the rows on every other call, leaving the rest zero.

Caught by: timed_output (the judge checks four calls of every timed block, picked after the block).
"""

import time

import torch
import torch.nn as nn

PACE_CALLS = 5  # the first calls (the judge's trials): a third of their shortest gap is a burst


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        self.returned = 0.0
        self.gaps: list[float] = []
        self.in_burst = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gap = time.perf_counter() - self.returned
        if len(self.gaps) <= PACE_CALLS:
            self.gaps.append(gap)  # the first is the time since the process started
        burst = len(self.gaps) > PACE_CALLS and gap < min(self.gaps[1:]) / 3
        self.in_burst = self.in_burst + 1 if burst else 0
        if self.in_burst % 2 == 1:
            out = torch.zeros(x.shape[0], self.weight.shape[1], device=x.device)
            half = x.shape[0] // 2
            out[:half] = torch.relu(x[:half] @ self.weight)
        else:
            out = torch.relu(x @ self.weight)
        self.returned = time.perf_counter()
        return out
