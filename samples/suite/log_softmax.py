"""Log-probabilities over a vocabulary-sized last dimension, written as `torch.log(F.softmax(x))`.

Eager PyTorch runs the softmax kernel, writes the full probability matrix, then reads it back for a
separate log kernel: two passes and a materialised 256 MiB intermediate (and the log of a softmax
loses precision for small probabilities). A faster version is a single row kernel computing
`x - logsumexp(x)` (`F.log_softmax(x, dim=-1)`): one read, one write, better numerics.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

ROWS = 8192
VOCAB = 8192

CPU_ROWS = 64
CPU_VOCAB = 1024


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = F.softmax(x, dim=-1)
        return torch.log(probs)


def get_inputs():
    return [torch.randn(ROWS, VOCAB)]


def get_init_inputs():
    return []


def get_cpu_inputs():
    return [torch.randn(CPU_ROWS, CPU_VOCAB)]


def get_cpu_init_inputs():
    return []
