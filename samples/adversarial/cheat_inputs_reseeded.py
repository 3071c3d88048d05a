"""Cheat: replaces torch.manual_seed in its process with one that seeds another number, so its worker
draws other inputs than the judge's from every seed; then it reports truthfully what it drew. A judge
that took the candidate's word about the draw blamed the person ("the input factory is not
deterministic") and stopped the whole optimisation on the person's problem.

Caught by: tamper (the judge draws the inputs again in its own process, finds them alike, and so puts the
difference on the candidate).
"""

import torch

_seed = getattr(torch, "manual" + "_seed")


def _other_seed(seed: int) -> torch.Generator:
    return _seed(int(seed) + 1)


setattr(torch, "manual" + "_seed", _other_seed)
torch.random.manual_seed = _other_seed


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)
