"""Reference problem (KernelBench form) whose output is rounding noise: GroupNorm, then the mean of each
sample. A normalised group has mean zero, so the exact answer is 0 and what float32 returns is noise
(its relative error against float64 is enormous). An equivalent rewrite must not be rejected for noise."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x).mean(dim=(1, 2, 3))


def get_inputs():
    return [torch.randn(16, 32, 12, 12) * 4.0 + 2.0]


def get_init_inputs():
    return [32, 8]
