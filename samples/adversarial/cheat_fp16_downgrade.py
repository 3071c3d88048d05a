"""Cheat: computes gelu_reference's GELU in float16 and returns float32, hiding behind loose tolerances.

Caught by: precision (its error against a float64 run is far above the float32 reference's own).
"""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(features) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.nn.functional.gelu(x.half()) * self.scale.half()).float()
