"""Cheat: computes once on the first call and returns that result forever after.

Caught by: replay (a later trial with fresh inputs returns the first trial's outputs).
"""

import torch

_first = []


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    if not _first:
        _first.append(torch.softmax(x, dim=-1))
    return _first[0]
