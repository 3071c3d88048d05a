"""Reference problem (module form) with `get_other_shape_inputs`: timed on 4 sequences of 128 tokens, and
every candidate must also be right on other batch sizes and lengths, which the factory draws from the seeded
generator for the module as `get_init_inputs` constructs it (hidden size 96). A candidate written for the
timed shape only is rejected by `other_shapes` (docs/PITFALLS.md 12), as with the function convention's
`shapes=`.
"""

import torch
from torch import nn

HIDDEN = 96


class Model(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, hidden))

    def forward(self, x):
        rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-6)
        return torch.nn.functional.silu(x * rms * self.scale)


def get_inputs():
    return [torch.randn(4, 128, HIDDEN)]


def get_init_inputs():
    return [HIDDEN]


def get_other_shape_inputs():
    batch = int(torch.randint(1, 7, ()))
    tokens = int(torch.randint(129, 300, ()))
    return [torch.randn(batch, tokens, HIDDEN)]
