"""A candidate that allocates until memory runs out (run it only under a memory cap)."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
