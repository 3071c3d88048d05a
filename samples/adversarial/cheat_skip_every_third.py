"""Cheat: right for its first dozen calls (the checks), then every third call does no work at all and
returns the answer of the call before it, which is about as costly as a pointer copy. Two timed calls in
three are right, so a judge that looked at one call of a block now and then missed it most runs.

Caught by: timed_output (the judge checks four calls of every timed block, picked after the block).
"""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        self.calls = 0
        self.last: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 12 and self.calls % 3 == 0 and self.last is not None:
            return self.last
        self.last = torch.relu(x @ self.weight)
        return self.last
