"""Reference problem (KernelBench form) whose output is its input: a transpose undone, and the ReLU of a
value that is positive nowhere but where it is kept. A candidate that returns a copy of its input passes,
so the checks prove nothing: the judge refuses the problem."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.relu(x) - torch.relu(-x)).t().contiguous().t()


def get_inputs():
    return [torch.randn(64, 512)]


def get_init_inputs():
    return []
