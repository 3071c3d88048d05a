"""Per-row sum and mean over the last dimension, returned together.

Eager PyTorch launches two independent reductions, so the 256 MiB input is read twice from memory
although both results come from the same per-row sum. Inputs are uniform in [0, 1) so the sums stay
far from zero. A faster version reads each row once and writes both outputs from one accumulator
(`mean = sum / COLS`), halving the memory traffic of this bandwidth-bound problem.
"""

import torch
import torch.nn as nn

ROWS = 16384
COLS = 4096

CPU_ROWS = 128
CPU_COLS = 1024


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        row_sum = x.sum(dim=-1)
        row_mean = x.mean(dim=-1)
        return row_sum, row_mean


def get_inputs():
    return [torch.rand(ROWS, COLS)]


def get_init_inputs():
    return []


def get_cpu_inputs():
    return [torch.rand(CPU_ROWS, CPU_COLS)]


def get_cpu_init_inputs():
    return []
