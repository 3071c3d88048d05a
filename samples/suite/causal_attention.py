"""Causal self-attention in float16, written as matmul, scale, triu mask, softmax, matmul.

Eager PyTorch materialises the (BATCH, HEADS, SEQ, SEQ) score matrix (256 MiB in fp16), writes it
again for the scale, the mask and the softmax, builds the mask itself on every call, and computes the
upper triangle only to discard it. A faster version is FlashAttention
(`F.scaled_dot_product_attention(q, k, v, is_causal=True)`): scores stay on chip, masked tiles are
skipped, and memory traffic is O(SEQ * HEAD_DIM) per head instead of O(SEQ^2).
"""

import torch
import torch.nn as nn

BATCH = 8
HEADS = 16
SEQ = 1024
HEAD_DIM = 64
DTYPE = torch.float16

CPU_BATCH = 1
CPU_HEADS = 2
CPU_SEQ = 64
CPU_HEAD_DIM = 32


class Model(nn.Module):
    def __init__(self, head_dim: int):
        super().__init__()
        self.scale = head_dim**-0.5

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        T = q.size(-2)
        scores = (q @ k.transpose(-2, -1)) * self.scale
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool, device=q.device), diagonal=1)
        scores = scores.masked_fill(causal, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ v


def get_inputs():
    shape = (BATCH, HEADS, SEQ, HEAD_DIM)
    return [torch.randn(shape, dtype=DTYPE), torch.randn(shape, dtype=DTYPE), torch.randn(shape, dtype=DTYPE)]


def get_init_inputs():
    return [HEAD_DIM]


def get_cpu_inputs():
    shape = (CPU_BATCH, CPU_HEADS, CPU_SEQ, CPU_HEAD_DIM)
    return [torch.randn(shape), torch.randn(shape), torch.randn(shape)]


def get_cpu_init_inputs():
    return [CPU_HEAD_DIM]
