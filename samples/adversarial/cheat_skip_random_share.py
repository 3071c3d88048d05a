"""Cheat: after its first dozen calls, a random third of them (no pattern a judge could learn) return
fresh uninitialised memory of the right shape, which an allocator that just freed the last answer often
fills with something close, and costs nothing to compute.

Caught by: timed_output (the judge checks four calls of every timed block, picked after the block).
"""

import random

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        self.calls = 0
        self.dice = random.Random()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 12 and self.dice.random() < 1 / 3:
            return torch.empty(x.shape[0], self.weight.shape[1], device=x.device)
        return torch.relu(x @ self.weight)
