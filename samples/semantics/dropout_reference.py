"""Reference problem (KernelBench form): a linear layer, Dropout and a GELU, in training mode.

Its output depends on torch's random generator. The judge seeds it alike before the reference's and the
candidate's calls, so a candidate that drops the same elements (the same torch ops, in the same order)
matches, and one that removes the dropout does not.
"""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int, p: float):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.dropout = nn.Dropout(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(self.dropout(self.linear(x)))


def get_inputs():
    return [torch.randn(128, 64)]


def get_init_inputs():
    return [64, 0.25]
