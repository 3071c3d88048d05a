"""Against the reduced-precision reference, a softmax at another temperature (5% hotter): its distance
from the float64 answer is far beyond the reference's own, so it is wrong (`value`), not merely exact."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(x) * 1.05, dim=-1)
