"""Causal self-attention written as textbook matmul -> mask -> softmax -> matmul.

Function convention with tolerances: the directive sets `atol`/`rtol` because a candidate that uses a
fused attention kernel sums in a different order (an online softmax), which changes the low bits.

Deliberately slow. It materialises the (BATCH, HEADS, SEQ, SEQ) score matrix in device memory, writes
and reads it again for the mask, the softmax and the second matmul, and computes the masked upper
triangle it then throws away. `torch.nn.functional.scaled_dot_product_attention(q, k, v,
is_causal=True)` (FlashAttention) keeps scores in on-chip memory, skips masked tiles, and moves
O(SEQ * HEAD_DIM) bytes per head instead of O(SEQ^2).
"""

import math

import torch

BATCH = 4
HEADS = 16
SEQ = 1024
HEAD_DIM = 64


def make_inputs():
    shape = (BATCH, HEADS, SEQ, HEAD_DIM)
    return torch.randn(shape), torch.randn(shape), torch.randn(shape)


def make_small_inputs():
    shape = (1, 2, 64, 32)
    return torch.randn(shape), torch.randn(shape), torch.randn(shape)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs atol=1e-4 rtol=1e-4
def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    seq = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    future = torch.triu(torch.ones(seq, seq, dtype=torch.bool, device=q.device), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v
