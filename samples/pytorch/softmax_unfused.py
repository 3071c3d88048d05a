"""Row softmax written out op by op: the numerically stable formula, one eager kernel per line.

Module convention (KernelBench): `Model`, `get_inputs`, no constructor arguments.

Deliberately slow. Each line of `forward` is its own kernel launch that reads and writes the whole
(BATCH, DIM) tensor: max, subtract, exp, sum, divide make about five round trips through device memory
where one suffices. A faster, fused version (`torch.softmax`, `torch.compile` of this very code, or one
Triton program per row as in samples/triton/row_softmax.py) reads the input once and writes the output
once, so expect roughly 3-5x from fusion alone on a memory-bound GPU.
"""

import torch
import torch.nn as nn

BATCH = 4096
DIM = 2048


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Subtracting the row max keeps exp() from overflowing; it does not change the result.
        row_max = x.amax(dim=1, keepdim=True)
        shifted = x - row_max
        numerator = torch.exp(shifted)
        denominator = numerator.sum(dim=1, keepdim=True)
        return numerator / denominator


def get_inputs():
    x = torch.randn(BATCH, DIM)
    return [x]


def get_init_inputs():
    return []
