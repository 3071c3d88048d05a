"""A transformer MLP block: up-projection, SiLU-gated (SwiGLU), down-projection, residual add.

Module convention (KernelBench): `Model(hidden, expansion)`, `get_inputs`, `get_init_inputs`.

Three GEMMs carry most of the FLOPs. The gate and up projections read the same input, so a faster
version concatenates their weights into one GEMM of twice the width; the SiLU, the product and the
residual add are elementwise passes that `torch.compile` fuses into the GEMM epilogues. Running in bf16
on a tensor-core GPU is the other large win, but changes the numerics, so it is a separate problem.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

TOKENS = 512
HIDDEN = 1024
EXPANSION = 4


class Model(nn.Module):
    def __init__(self, hidden: int, expansion: int):
        super().__init__()
        inner = hidden * expansion
        self.gate_proj = nn.Linear(hidden, inner, bias=False)
        self.up_proj = nn.Linear(hidden, inner, bias=False)
        self.down_proj = nn.Linear(inner, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gated = F.silu(self.gate_proj(x)) * self.up_proj(x)
        return x + self.down_proj(gated)


def get_inputs():
    return [torch.randn(TOKENS, HIDDEN)]


def get_init_inputs():
    return [HIDDEN, EXPANSION]
