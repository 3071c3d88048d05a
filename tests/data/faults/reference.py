"""The reference problem the fault candidates answer (KernelBench's module convention)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0 + 1.0


def get_inputs():
    return [torch.randn(256)]


def get_init_inputs():
    return []
