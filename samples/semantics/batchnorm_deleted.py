"""Candidate: the BatchNorm deleted. In eval mode a fresh BatchNorm is nearly the identity, so this passed
while modules were put in eval mode; in training mode (KernelBench's) it is wrong and must be rejected."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.bn = nn.BatchNorm1d(features)  # kept so the weights are drawn alike, never used

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))
