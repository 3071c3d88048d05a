"""A regression loss: mean squared error plus a weighted smooth-L1 (Huber) term, as one scalar.

Eager PyTorch computes the two losses independently, so both 128 MiB inputs are read twice and each
loss makes its own difference tensor and its own reduction, plus the launches to combine the scalars.
A faster version reads `pred` and `target` once, forms the difference in registers, accumulates both
the squared and the Huber terms in one reduction, and combines them in the final block.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

ROWS = 8192
COLS = 4096
BETA = 1.0
HUBER_WEIGHT = 0.5

CPU_ROWS = 128
CPU_COLS = 512


class Model(nn.Module):
    def __init__(self, beta: float, huber_weight: float):
        super().__init__()
        self.beta = beta
        self.huber_weight = huber_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        mse = F.mse_loss(pred, target)
        huber = F.smooth_l1_loss(pred, target, beta=self.beta)
        return mse + self.huber_weight * huber


def get_inputs():
    return [torch.randn(ROWS, COLS), torch.randn(ROWS, COLS)]


def get_init_inputs():
    return [BETA, HUBER_WEIGHT]


def get_cpu_inputs():
    return [torch.randn(CPU_ROWS, CPU_COLS), torch.randn(CPU_ROWS, CPU_COLS)]


def get_cpu_init_inputs():
    return [BETA, HUBER_WEIGHT]
