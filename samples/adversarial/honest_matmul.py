"""Honest rewrite of matmul_reference.Model: torch.mm, then the ReLU as an in-place clamp.

Must pass every check.
"""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mm(x, self.weight).clamp_min_(0.0)
