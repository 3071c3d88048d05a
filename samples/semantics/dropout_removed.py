"""Candidate: the dropout removed (as if in eval mode). In training mode a quarter of the elements are
dropped and the rest scaled: this is wrong and must be rejected."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int, p: float):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(self.linear(x))
