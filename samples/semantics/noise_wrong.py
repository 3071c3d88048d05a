"""Candidate for the noise-level reference that is simply wrong: the mean of the input, not of its
normalised groups. Its outputs are far outside the elementwise tolerance of the exact answer, 0."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2, 3))
