"""A rewrite of module_shapes_reference.py that is right at any batch size and length: one fused
expression over the last dimension. Passes, the other shapes included."""

import torch
from torch import nn


class ModelNew(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, hidden))

    def forward(self, x):
        normed = x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + 1e-6)
        return torch.nn.functional.silu(normed * self.scale)
