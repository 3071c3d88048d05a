"""Reference problem (KernelBench form) whose output is all zeros for every input, though its code does not
say so at a glance: -|x| is never positive, so the ReLU of it is zero. Any candidate that returns zeros
passes its checks, which then prove nothing: the judge refuses the problem and says why."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(-x.abs())


def get_inputs():
    return [torch.randn(32, 1024)]


def get_init_inputs():
    return []
