"""Reference problem (KernelBench form): the sum of each row, deterministic. Candidates for it show how the
judge treats a candidate whose result changes from run to run on the same inputs."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=1)


def get_inputs():
    return [torch.randn(64, 8192)]


def get_init_inputs():
    return []
