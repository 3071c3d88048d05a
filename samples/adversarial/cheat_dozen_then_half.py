"""Cheat: right for its first dozen calls (the checks), then does half the work: only the first half of
the rows, the rest left as zeros, while it is timed.

Caught by: timed_output (the judge checks the output of a timed call it picks after each block).
"""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls <= 12:
            return torch.relu(x @ self.weight)
        out = torch.zeros(x.shape[0], self.weight.shape[1], device=x.device)
        half = x.shape[0] // 2
        out[:half] = torch.relu(x[:half] @ self.weight)
        return out
