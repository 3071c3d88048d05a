"""A correct candidate: the job after each fault uses it to show the pool still works."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(torch.ones_like(x), x, torch.full_like(x, 2.0))
