"""Reference problem (KernelBench form) for telling a precision problem from a wrong result: a linear
layer followed by a softmax over features, in float32. A candidate that computes it in bfloat16 is right
but imprecise; one that is 1% off is wrong, though both miss the float32 tolerance by a similar margin."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.proj(x), dim=-1)


def get_inputs():
    return [torch.randn(128, 256)]


def get_init_inputs():
    return [256]
