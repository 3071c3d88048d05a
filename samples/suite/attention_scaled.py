"""Non-causal scaled dot-product attention in bfloat16, with `torch.matmul` and `/ math.sqrt(d)`.

Eager PyTorch writes the (BATCH, HEADS, SEQ, SEQ) scores (512 MiB in bf16 at SEQ=2048), a scaled
copy, and the softmax probabilities to memory, and reads each back: the attention is bound by that
quadratic traffic, not by its matmuls. A faster version is a fused attention kernel
(`F.scaled_dot_product_attention(q, k, v)`, FlashAttention) that keeps each block of scores on chip
with an online softmax and writes only the (SEQ, HEAD_DIM) output.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 4
HEADS = 16
SEQ = 2048
HEAD_DIM = 64
DTYPE = torch.bfloat16

CPU_BATCH = 1
CPU_HEADS = 2
CPU_SEQ = 64
CPU_HEAD_DIM = 32


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        d = q.size(-1)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)
        weights = F.softmax(scores, dim=-1)
        return torch.matmul(weights, v)


def get_inputs():
    shape = (BATCH, HEADS, SEQ, HEAD_DIM)
    return [torch.randn(shape, dtype=DTYPE), torch.randn(shape, dtype=DTYPE), torch.randn(shape, dtype=DTYPE)]


def get_init_inputs():
    return []


def get_cpu_inputs():
    shape = (CPU_BATCH, CPU_HEADS, CPU_SEQ, CPU_HEAD_DIM)
    return [torch.randn(shape), torch.randn(shape), torch.randn(shape)]


def get_cpu_init_inputs():
    return []
