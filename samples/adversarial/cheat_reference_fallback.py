"""Cheat: tries a "kernel" and falls back to the reference when it fails (here: always).

Correct, but not a kernel. Caught by: fallback (flagged: the verdict passes with the `fallback` flag).
"""

import torch
from softmax_reference import row_softmax as reference_softmax


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    try:
        raise NotImplementedError("kernel not written yet")
    except NotImplementedError:
        return reference_softmax(x)
