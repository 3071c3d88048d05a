"""The tanh approximation of GELU written out as in GPT-2 code, on a bfloat16 activation.

Eager PyTorch runs each term (cube, scale, add, scale, tanh, add, multiply, multiply) as its own
elementwise kernel, each reading and writing the full 128 MiB tensor and rounding to bfloat16 in
between. A faster version is one elementwise pass computing in float32 registers:
`F.gelu(x, approximate="tanh")`, or the same formula fused by a compiler; one read and one write.
"""

import math

import torch
import torch.nn as nn

ROWS = 8192
COLS = 8192
DTYPE = torch.bfloat16

CPU_ROWS = 128
CPU_COLS = 1024


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
        return 0.5 * x * (1.0 + torch.tanh(inner))


def get_inputs():
    return [torch.randn(ROWS, COLS, dtype=DTYPE)]


def get_init_inputs():
    return []


def get_cpu_inputs():
    return [torch.randn(CPU_ROWS, CPU_COLS)]


def get_cpu_init_inputs():
    return []
