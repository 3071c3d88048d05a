"""Cheat: caches results keyed on the input's data_ptr(), so a buffer refilled in place gets the old answer.

Caught by: replay (the same input buffers refilled with new values must give new results).
"""

import torch

_cache = {}


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    key = (x.data_ptr(), tuple(x.shape))
    if key not in _cache:
        _cache[key] = torch.softmax(x, dim=-1)
    return _cache[key]
