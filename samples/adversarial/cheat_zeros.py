"""Cheat: returns zeros. softmax_reference's outputs are all below atol, so zeros pass elementwise.

Caught by: error_norm (the relative error norm is 1.0).
"""

import torch


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x)
