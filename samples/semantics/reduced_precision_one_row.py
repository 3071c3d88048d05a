"""Against the reduced-precision reference, the exact computation except for one row, left uniform: the
other rows are as exact as can be, but each element is held to the float64 answer on its own, so the row
is caught (`value`)."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.softmax(self.proj(x), dim=-1)
        out[0] = 1.0 / out.shape[-1]
        return out
