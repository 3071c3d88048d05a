"""LayerNorm followed by tanh-GELU, both spelled out in elementwise ops: a typical transformer epilogue.

Module convention (KernelBench): `Model(hidden)`, `get_inputs`, `get_init_inputs`.

Deliberately slow. The mean, the variance, the normalisation, the affine transform and every term of the
GELU polynomial are separate eager kernels, each a full pass over (TOKENS, HIDDEN) in device memory; a
dozen passes for work that needs one read and one write. A faster version: `torch.compile` fuses the
chain into one or two kernels; a hand-written version normalises each row in registers (one program per
row) and applies GELU before the single store.
"""

import math

import torch
import torch.nn as nn

TOKENS = 4096
HIDDEN = 1024
EPS = 1e-5


class Model(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=-1, keepdim=True)
        normed = centered * torch.rsqrt(var + EPS)
        y = normed * self.weight + self.bias
        # GELU, tanh approximation (as in GPT-2): 0.5 y (1 + tanh(sqrt(2/pi) (y + 0.044715 y^3))).
        inner = math.sqrt(2.0 / math.pi) * (y + 0.044715 * y * y * y)
        return 0.5 * y * (1.0 + torch.tanh(inner))


def get_inputs():
    x = torch.randn(TOKENS, HIDDEN)
    return [x]


def get_init_inputs():
    return [HIDDEN]
