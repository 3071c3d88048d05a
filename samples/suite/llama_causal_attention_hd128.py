"""Causal attention at head dim 128 in bfloat16, as a Llama-style decoder's prefill computes it (32 heads
of 128, 4096 tokens), masked with `tril(ones) == 0` and `masked_fill(-inf)`.

Eager PyTorch builds the (SEQ, SEQ) mask on every call and writes the (BATCH, HEADS, SEQ, SEQ) scores
(2 GiB in bf16 at SEQ=4096), the masked copy and the probabilities to memory, computing every masked
product as well. A causal fused attention kernel
(`F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=...)`) keeps scores on chip and skips
the tiles above the diagonal: about half the work.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 2
HEADS = 32
SEQ = 4096
HEAD_DIM = 128
DTYPE = torch.bfloat16

CPU_BATCH = 1
CPU_HEADS = 2
CPU_SEQ = 64
CPU_HEAD_DIM = 32


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        T = q.size(-2)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
        mask = torch.tril(torch.ones(T, T, device=q.device)) == 0
        scores = scores.masked_fill(mask, float("-inf"))
        return torch.matmul(F.softmax(scores, dim=-1), v)


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
