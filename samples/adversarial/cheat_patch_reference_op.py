"""Cheat: rebinds the torch function the reference calls (reached through a computed name, so no static
rule sees it) to something cheap and wrong, then returns the same cheap wrong thing. In a harness that
runs the reference in the candidate's process, the reference "agrees".

Caught by: value / error_norm (the judge's reference never ran where the candidate could reach it).
"""

import torch

_uniform = lambda x, dim=-1, **kw: torch.full_like(x, 1.0 / x.shape[dim])  # noqa: E731
setattr(torch, "soft" + "max", _uniform)
setattr(torch.Tensor, "soft" + "max", lambda self, dim=-1, **kw: _uniform(self, dim))


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return _uniform(x)
