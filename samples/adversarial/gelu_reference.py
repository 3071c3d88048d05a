"""Reference problem (module convention, KernelBench style): a scaled GELU in float32.

Elementwise, so a float16 rewrite stays inside float32's elementwise tolerances; only the comparison
with a float64 run of this reference shows the lost precision (docs/PITFALLS.md 13).
"""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(features) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(x) * self.scale


def get_inputs():
    return [torch.randn(256, 1024)]


def get_init_inputs():
    return [1024]
