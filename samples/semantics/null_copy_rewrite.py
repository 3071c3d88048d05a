"""A rewrite of null_copy_reference.Model: relu(x) - relu(-x) is x. The problem is refused first: its output
is a copy of its input."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()
