"""Reference problem whose input factory puts its tensors on the GPU itself (`.cuda()`), as many
KernelBench files do. On a machine without CUDA the verdict must say the machine has no GPU (and what to
do), not call it an internal error."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(64, 64).cuda()]


def get_init_inputs():
    return []
