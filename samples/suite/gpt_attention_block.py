"""A GPT-2 style causal self-attention layer in float16: fused qkv Linear, heads, tril mask, output proj.

Eager PyTorch splits the qkv projection, transposes the heads (views, then copies inside the matmuls),
materialises the (BATCH, HEADS, SEQ, SEQ) scores, rewrites them for the mask from a registered `tril`
buffer and the softmax, and makes the merged heads contiguous before the projection. A faster version
keeps the two GEMMs and replaces the middle with `F.scaled_dot_product_attention(..., is_causal=True)`
(FlashAttention), which never writes the scores and drops the mask buffer.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 8
SEQ = 1024
D_MODEL = 1024
N_HEADS = 16
MAX_SEQ = 1024
DTYPE = torch.float16

CPU_BATCH = 2
CPU_SEQ = 32
CPU_D_MODEL = 64
CPU_N_HEADS = 4
CPU_MAX_SEQ = 64


class Model(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_seq: int, dtype: torch.dtype):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, dtype=dtype)
        self.proj = nn.Linear(d_model, d_model, dtype=dtype)
        self.register_buffer("mask", torch.tril(torch.ones(max_seq, max_seq)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        k = k.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        v = v.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


def get_inputs():
    return [torch.randn(BATCH, SEQ, D_MODEL, dtype=DTYPE)]


def get_init_inputs():
    return [D_MODEL, N_HEADS, MAX_SEQ, DTYPE]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_SEQ, CPU_D_MODEL)]


def get_cpu_init_inputs():
    return [CPU_D_MODEL, CPU_N_HEADS, CPU_MAX_SEQ, torch.float32]
