"""A softmax at temperature 1.02 instead of 1: its outputs still sum to one and sit near the reference's,
but each is off by up to a few percent: a wrong result (`value`), not a precision problem."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(x) / 1.02, dim=-1)
