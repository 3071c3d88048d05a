"""Reference problem (KernelBench form): a linear layer, BatchNorm and a ReLU, used as constructed.

A KernelBench module runs in training mode: BatchNorm normalises with the batch's own mean and variance
(and updates its running statistics), so deleting it changes the answer, and computing it from the
batch's statistics is exactly right.
"""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.bn = nn.BatchNorm1d(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.linear(x)))


def get_inputs():
    return [torch.randn(64, 32) * 3.0 + 1.0]


def get_init_inputs():
    return [32]
