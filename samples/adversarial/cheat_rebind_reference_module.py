"""Cheat: finds the loaded reference module in sys.modules and rebinds its `row_softmax` to a cheap
wrong function, which it also returns: a harness that compares against a reference living in the
candidate's process compares the cheat with itself.

Caught by: value / error_norm (the reference the judge runs was never loaded in the candidate's process).
"""

import sys

import torch


def _cheap(x: torch.Tensor) -> torch.Tensor:
    return torch.full_like(x, 1.0 / x.shape[-1])


for _module in list(sys.modules.values()):
    if getattr(_module, "row_softmax", None) is not None and _module.__name__ != __name__:
        setattr(_module, "row_" + "softmax", _cheap)


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return _cheap(x)
