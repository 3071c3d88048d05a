"""A small pre-norm transformer block: LayerNorm, causal self-attention, residual, LayerNorm, GELU MLP.

At BATCH=2, SEQ=64, D_MODEL=128 the block is about twenty tiny kernels (norms, four GEMMs for the
attention, the hand-written score/mask/softmax chain, two MLP GEMMs, residual adds), each a few
microseconds: eager PyTorch is bound by launch and dispatch overhead, not FLOPs or bytes. A faster
version fuses the elementwise work and the attention (`F.scaled_dot_product_attention`), and replays
the whole block as one CUDA graph, or runs it as a single persistent kernel.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 2
SEQ = 64
D_MODEL = 128
N_HEADS = 4
MLP_RATIO = 4

CPU_BATCH = 1
CPU_SEQ = 32
CPU_D_MODEL = 64
CPU_N_HEADS = 4


class Model(nn.Module):
    def __init__(self, d_model: int, n_heads: int, mlp_ratio: int):
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, mlp_ratio * d_model)
        self.fc2 = nn.Linear(mlp_ratio * d_model, d_model)

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hd = C // self.n_heads
        q = self.q_proj(x).view(B, T, self.n_heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.n_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_heads, hd).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(hd)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        y = torch.matmul(weights, v).transpose(1, 2).reshape(B, T, C)
        return self.out_proj(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self._attention(self.ln1(x))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x


def get_inputs():
    return [torch.randn(BATCH, SEQ, D_MODEL)]


def get_init_inputs():
    return [D_MODEL, N_HEADS, MLP_RATIO]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_SEQ, CPU_D_MODEL)]


def get_cpu_init_inputs():
    return [CPU_D_MODEL, CPU_N_HEADS, MLP_RATIO]
