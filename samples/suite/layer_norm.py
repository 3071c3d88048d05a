"""LayerNorm with a learned scale and shift over the last dimension, through `nn.LayerNorm`.

Eager PyTorch already runs this as one kernel, so the headroom is small: the kernel reads the row
for its statistics and the weights, and writes the output once. What is left for a faster version is
vectorised loads with the row held in registers (one read of `x`, Welford statistics), and above all
fusing the norm into its neighbours (a residual add before, a quantise or GEMM prologue after).
"""

import torch
import torch.nn as nn

BATCH = 8
SEQ = 2048
HIDDEN = 4096
EPS = 1e-5

CPU_BATCH = 2
CPU_SEQ = 64
CPU_HIDDEN = 512


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, eps=eps)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.1 * torch.randn(hidden))
            self.norm.bias.copy_(0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


def get_inputs():
    return [torch.randn(BATCH, SEQ, HIDDEN)]


def get_init_inputs():
    return [HIDDEN, EPS]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_SEQ, CPU_HIDDEN)]


def get_cpu_init_inputs():
    return [CPU_HIDDEN, EPS]
