"""Against the reduced-precision reference, a cheaper computation that rounds the logits more coarsely
than the reference does (to 1/16): it leans on the latitude the reference's own rounding earns, but is
farther from the float64 answer than twice that, so it is wrong (`value`)."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax((self.proj(x) * 16).round() / 16, dim=-1)
