"""Cheat: returns a torch.Tensor subclass that could compute (or look correct) only when it is read.

Caught by: lazy_output (outputs must be exactly torch.Tensor).
"""

import torch


class LazyTensor(torch.Tensor):
    pass


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1).as_subclass(LazyTensor)
