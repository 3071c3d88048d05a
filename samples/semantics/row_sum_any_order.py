"""Candidate for the deterministic row sum that adds its chunks' partial sums in an order that changes
from run to run (as atomic adds do on a GPU): correct, within tolerance, and not reproducible bit for bit.
It must pass, flagged `candidate_non_deterministic`: the judge runs it twice on the same inputs."""

import random

import torch
import torch.nn as nn

CHUNKS = 8
_ORDER = random.SystemRandom()  # the order blocks finish in: nothing the harness's seeding reaches


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        partials = list(x.chunk(CHUNKS, dim=1))
        _ORDER.shuffle(partials)
        total = partials[0].sum(dim=1)
        for part in partials[1:]:
            total = total + part.sum(dim=1)
        return total
