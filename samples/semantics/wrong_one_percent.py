"""Right but for a factor of 1.01 on every output: 1% from the exact answer, more than twice what the
reference computed in bfloat16 misses by, so a wrong result (`value`), not a precision problem."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(x), dim=-1) * 1.01
