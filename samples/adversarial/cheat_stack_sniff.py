"""Cheat: looks up its callers' frames and does half the work when a timing loop is calling it (a frame
named like `block` or `time`), the full work otherwise.

Caught by: timed_output (outputs of timed calls are checked too).
"""

import sys

import torch
import torch.nn as nn


def _timed() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_name
        if "block" in name or "time" in name:
            return True
        frame = frame.f_back
    return False


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _timed():
            return torch.relu(x @ self.weight)
        half = x.shape[0] // 2
        top = torch.relu(x[:half] @ self.weight)
        return torch.cat([top, top])
