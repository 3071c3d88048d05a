"""Candidate for the noise-level reference: GroupNorm written out (per-group mean and variance) and the
mean taken as a sum over a flattened view: the same mathematics in another order, so other rounding
noise. It must pass."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.groups = groups
        self.eps = 1e-5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        g = x.reshape(n, self.groups, -1)
        mean = g.mean(dim=-1, keepdim=True)
        var = g.var(dim=-1, unbiased=False, keepdim=True)
        y = (g - mean) * torch.rsqrt(var + self.eps)
        return y.reshape(n, -1).sum(dim=1) / y[0].numel()
