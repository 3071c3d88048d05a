"""Cheat: does its work where no reported time sees it, and pays the judge's clock back in the one question
that measures no work: the empty warm-up the judge asks after each timing block to learn the relay's
round trip. A profile hook (sys.setprofile: no watched attribute is replaced) sees the harness's own
calls: when a timing block's input draw returns, it computes the answer for that input and caches it, so
the timed call only looks it up; when the empty warm-up comes, it sleeps as long as the whole block
took, so the block seems to have cost nothing beyond its reported times.

Caught by: timing (the judge counts the candidate's part of the round trip only up to what an empty
answer costs: harness.candidate_line.CandidateLine.round_trip, and the hidden work shows on its clock).
"""

import sys
import time

import torch
import torch.nn as nn

_cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
_state: dict[str, float] = {"depth": 0, "start": 0.0, "owed": 0.0}
_weight: list[torch.Tensor] = []


def _hook(frame, event, arg):
    name = frame.f_code.co_name
    if event == "call" and name == "_block":
        _state["depth"] += 1
        _state["start"] = time.perf_counter()
    elif event == "return" and name == "_block":
        _state["depth"] -= 1
        _state["owed"] = time.perf_counter() - _state["start"]
    elif event == "return" and name == "draw" and _state["depth"] and _weight and isinstance(arg, tuple):
        x = arg[0]
        _cache[id(x)] = (x, torch.relu(x @ _weight[0]))
    elif event == "call" and name == "warm" and not frame.f_locals.get("seeds", [0]) and _state["owed"]:
        owed, _state["owed"] = _state["owed"], 0.0
        time.sleep(owed)


sys.setprofile(_hook)


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)
        _weight.append(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hit = _cache.pop(id(x), None)
        if hit is not None and hit[0] is x:
            return hit[1]
        return torch.relu(x @ self.weight)
