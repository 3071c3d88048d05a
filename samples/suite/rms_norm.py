"""RMSNorm over the hidden dimension, written out term by term as LLaMA-style code does.

Eager PyTorch runs it as five kernels (pow, mean, add + rsqrt, two multiplies), so the 256 MiB
activation is read about four times and the squared copy and the normalised copy are materialised in
memory. A faster version is one row-wise kernel: load a row once, reduce the sum of squares in
registers, and write `x * rstd * weight` in the same pass (or `torch.nn.functional.rms_norm`).
"""

import torch
import torch.nn as nn

BATCH = 8
SEQ = 2048
HIDDEN = 4096
EPS = 1e-6

CPU_BATCH = 2
CPU_SEQ = 64
CPU_HIDDEN = 512


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN)]


def get_init_inputs():
    return [HIDDEN, EPS]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_SEQ, CPU_HIDDEN)]


def get_cpu_init_inputs():
    return [CPU_HIDDEN, EPS]
