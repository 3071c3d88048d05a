"""Cheat: rewrites the harness's own comparison through sys.modules and computed names, so that any two
outputs "match", then returns zeros.

Caught by: error_norm (the comparison that decides runs in the judge, which never loads candidate code).
"""

import sys

import torch

for _name in ("compare", "verify", "interleave"):
    _module = sys.modules.get("kernelwright.harness." + _name)
    if _module is not None:
        setattr(_module, "comp" + "are", lambda *args, **kwargs: None)
        setattr(_module, "error_" + "norms", lambda *args, **kwargs: [0.0])


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x)
