"""Candidate: a dropout of its own (a mask from torch.rand_like), statistically the same but drawing other
random numbers than the reference's: its output differs element by element, so it is rejected. Under
seeded comparison a candidate must reproduce the reference's draws."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, features: int, p: float):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        keep = torch.rand_like(y) >= self.p
        return F.gelu(y * keep / (1.0 - self.p))
