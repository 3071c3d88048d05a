"""Reference problem (KernelBench form) that computes at reduced precision itself: a linear layer and a
softmax whose matmul, in float32, keeps only bfloat16's mantissa (as cuDNN runs float32 convolutions in
TF32, which it never does for float64, or as attention in float16 keeps its scores in float16). A
candidate that computes it exactly differs from it by more than float32's tolerance, yet is closer to
the float64 answer than the reference: it is right."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.proj = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)
        if h.dtype == torch.float32:  # the reduced precision float64 does not get, like TF32
            h = h.bfloat16().float()
        return torch.softmax(h, dim=-1)


def get_inputs():
    return [torch.randn(128, 256)]


def get_init_inputs():
    return [256]
