"""Non-causal attention at head dim 128 in bfloat16, as a diffusion transformer's joint image-and-text
attention computes it (24 heads of 128, 4096 tokens), with `@`, a multiplied scale and `.softmax`.

Eager PyTorch writes the (BATCH, HEADS, SEQ, SEQ) scores (1.5 GiB in bf16 at SEQ=4096), a scaled copy
and the probabilities to memory and reads each back. A fused attention kernel
(`F.scaled_dot_product_attention(q, k, v, scale=...)`) keeps each block of scores on chip; at head dim
128 each score costs one exponential for 512 matmul FLOPs, so such a kernel can run near the tensor
cores' peak (at head dim 64, half that, the exponentials take about as long as the matmuls).
"""

import torch
import torch.nn as nn

BATCH = 2
HEADS = 24
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
        scale = q.shape[-1] ** -0.5
        scores = (q @ k.transpose(-2, -1)) * scale
        return scores.softmax(dim=-1) @ v


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
