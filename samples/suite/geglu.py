"""GeGLU gating on a bfloat16 projection output: split the last dimension in two, `gelu(a) * b`.

Eager PyTorch runs the GELU on a strided half of the tensor and writes it to a new buffer, then a
second kernel reads that buffer and the other half for the product: the 128 MiB gelu output is a
materialised intermediate. A faster version is one elementwise kernel that reads both halves of each
row, computes `gelu(a) * b` in float32 registers and writes the half-width result once.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

TOKENS = 16384
HIDDEN = 4096  # the input has 2 * HIDDEN columns
DTYPE = torch.bfloat16

CPU_TOKENS = 128
CPU_HIDDEN = 512


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=-1)
        return F.gelu(a) * b


def get_inputs():
    return [torch.randn(TOKENS, 2 * HIDDEN, dtype=DTYPE)]


def get_init_inputs():
    return []


def get_cpu_inputs():
    return [torch.randn(CPU_TOKENS, 2 * CPU_HIDDEN)]


def get_cpu_init_inputs():
    return []
