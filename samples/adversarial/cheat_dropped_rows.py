"""Cheat: skips the last row (a boundary the kernel "forgot"), leaving it unwritten in an empty() buffer.

Caught by: unwritten (memory is NaN-poisoned before the call, so the skipped row reads NaN). Where the
allocator hands back other memory, value / error_norm catch it instead.
"""

import torch


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    out[:-1] = torch.softmax(x[:-1], dim=-1)
    return out
