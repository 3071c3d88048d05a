"""Attention-style probabilities: logits divided by a temperature, an additive padding mask, softmax.

Eager PyTorch runs three kernels over the (BATCH, HEADS, SEQ, SEQ) logits, writing the scaled and
the masked copies (256 MiB each) before the softmax reads them back. The mask is additive (0 for
kept keys, -10000 for padding, broadcast over heads and queries), as BERT-style code builds it. A
faster version is one row kernel: read a row of logits and the mask row, scale, add, softmax, write.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 4
HEADS = 16
SEQ = 1024
TEMPERATURE = 0.7

CPU_BATCH = 2
CPU_HEADS = 2
CPU_SEQ = 128


class Model(nn.Module):
    def __init__(self, temperature: float):
        super().__init__()
        self.temperature = temperature

    def forward(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = logits / self.temperature
        scores = scores + mask
        return F.softmax(scores, dim=-1)


def _padding_mask(batch: int, seq: int) -> torch.Tensor:
    # Each sequence keeps its first `length` keys (at least half of them); the rest are padding.
    lengths = torch.randint(seq // 2, seq + 1, (batch,))
    padded = torch.arange(seq)[None, :] >= lengths[:, None]
    return (padded.float() * -10000.0).view(batch, 1, 1, seq)


def get_inputs():
    return [torch.randn(BATCH, HEADS, SEQ, SEQ), _padding_mask(BATCH, SEQ)]


def get_init_inputs():
    return [TEMPERATURE]


def get_cpu_inputs():
    return [torch.randn(CPU_BATCH, CPU_HEADS, CPU_SEQ, CPU_SEQ), _padding_mask(CPU_BATCH, CPU_SEQ)]


def get_cpu_init_inputs():
    return [TEMPERATURE]
