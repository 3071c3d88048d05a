"""Reference problem (KernelBench form) with two inputs of one shape whose output is the second: the first
is multiplied by a mask of zeros. A null check that tried only the first input of the output's shape
would let it through; each input is tried in turn, and the judge refuses it as a copy of input 2."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x * (x != x) + y


def get_inputs():
    return [torch.randn(32, 256), torch.randn(32, 256)]


def get_init_inputs():
    return []
