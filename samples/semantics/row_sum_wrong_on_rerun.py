"""Candidate for the deterministic row sum that is right the first time it sees an input and wrong on
the same input after: a stand-in for a race or for state an earlier call leaves behind (a workspace not
cleared, a cache updated in place), made deterministic here so the test is. Every fresh input it is given
gets a right answer; only running the same inputs twice shows the fault. It must be rejected."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen: dict[tuple[float, ...], torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = tuple(x[:2, :4].flatten().tolist())
        total = x.sum(dim=1)
        if key in self.seen:
            total = total + self.seen[key]  # the leftover: last run's partial result, never cleared
        self.seen[key] = total.detach().clone()
        return total
