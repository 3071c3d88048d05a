"""A rewrite of null_zeros_reference.Model (the same clamp written otherwise). The problem is refused before
this candidate is judged: its outputs are all zeros, which a null candidate matches."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs().neg().clamp(min=0)
