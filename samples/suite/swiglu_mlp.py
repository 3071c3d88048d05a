"""A LLaMA-style SwiGLU MLP in bfloat16: gate and up projections, `silu(gate) * up`, down projection.

Eager PyTorch runs the gate and up GEMMs separately (reading the input twice), then writes the two
(TOKENS, INNER) products, the SiLU output and the gated product to memory before the down GEMM reads
it. A faster version concatenates the gate and up weights into one GEMM, applies `silu(g) * u` in its
epilogue so only the gated tensor is written, then runs the down GEMM.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

TOKENS = 2048
HIDDEN = 2048
INNER = 5632
DTYPE = torch.bfloat16

CPU_TOKENS = 32
CPU_HIDDEN = 128
CPU_INNER = 352


class Model(nn.Module):
    def __init__(self, hidden: int, inner: int, dtype: torch.dtype):
        super().__init__()
        self.gate = nn.Linear(hidden, inner, bias=False, dtype=dtype)
        self.up = nn.Linear(hidden, inner, bias=False, dtype=dtype)
        self.down = nn.Linear(inner, hidden, bias=False, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.silu(self.gate(x)) * self.up(x))


def get_inputs():
    return [torch.randn(TOKENS, HIDDEN, dtype=DTYPE)]


def get_init_inputs():
    return [HIDDEN, INNER, DTYPE]


def get_cpu_inputs():
    return [torch.randn(CPU_TOKENS, CPU_HIDDEN)]


def get_cpu_init_inputs():
    return [CPU_HIDDEN, CPU_INNER, torch.float32]
