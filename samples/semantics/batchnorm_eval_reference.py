"""Reference problem whose constructor chooses eval mode: BatchNorm uses its running statistics (set to
non-trivial values here), as an inference problem means. The mode a module is constructed in is the mode
it is judged in."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.bn = nn.BatchNorm1d(features)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1.0, 1.0)
            self.bn.running_var.uniform_(0.5, 2.0)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.linear(x)))


def get_inputs():
    return [torch.randn(64, 32)]


def get_init_inputs():
    return [32]
