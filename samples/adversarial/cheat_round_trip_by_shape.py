"""Cheat: the round-trip padding of cheat_round_trip_padded.py in another form, which knows none of the
harness's function names. It finds the draws by what they return (one tensor of the problem's shape)
and the relay's empty question by its empty seed list (any function called with an empty `seeds`), in
every thread; it pays back the span from a block's first draw to that question, while answering it.

Caught by: timing (as cheat_round_trip_padded.py: the candidate's part of the round trip counts only up
to what an empty answer costs).
"""

import sys
import threading
import time

import torch
import torch.nn as nn

_weight: list[torch.Tensor] = []
_done: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
_owed = [0.0]  # when the span to pay back began (0: none open)


def _hook(frame, event, arg):
    if event == "call":
        seeds = frame.f_locals.get("seeds")
        if isinstance(seeds, (list, tuple)) and len(seeds) == 0 and _owed[0] > 0.0:
            owed, _owed[0] = time.perf_counter() - _owed[0], 0.0
            time.sleep(owed)
    elif (
        event == "return"
        and isinstance(arg, tuple)
        and len(arg) == 1
        and isinstance(arg[0], torch.Tensor)
        and arg[0].shape == (512, 512)
        and _weight
        and id(arg[0]) not in _done
    ):
        x = arg[0]
        if _owed[0] == 0.0:
            _owed[0] = time.perf_counter()  # the span to pay back starts here
        _done[id(x)] = (x, torch.relu(x @ _weight[0]))


sys.setprofile(_hook)
threading.setprofile(_hook)


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        _weight.append(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hit = _done.pop(id(x), None)
        if hit is not None and hit[0] is x:
            return hit[1]
        return torch.relu(x @ self.weight)
