"""Reference problem (module convention): a matmul with a ReLU, a few milliseconds a call on a CPU.

The timing cheats use it: each hides its real work from the times it reports, and a call long enough to
stand out of a busy CPU's noise shows the judge's clock catching them (harness.interleave).
"""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.weight)


def get_inputs():
    return [torch.randn(512, 512)]


def get_init_inputs():
    return [512]
