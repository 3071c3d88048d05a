"""The reduced-precision reference's computation in float32 throughout: beyond float32's tolerance from
the reference's outputs, but every element as close to the float64 answer as the reference's: passes."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(x), dim=-1)
