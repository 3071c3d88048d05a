"""Reference problem (KernelBench form) that is itself non-deterministic: each row is summed in chunks
whose partial sums are added in an order that changes from run to run, as a reduction finished by atomic
adds does on a GPU (the order the blocks finish in). The judge's two runs of it differ in the last bits:
it is flagged `non_deterministic`, and candidates are allowed its spread."""

import random

import torch
import torch.nn as nn

CHUNKS = 8
_ORDER = random.SystemRandom()  # not torch's generator, which the harness seeds alike before each call


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        partials = list(x.chunk(CHUNKS, dim=1))
        _ORDER.shuffle(partials)
        total = partials[0].sum(dim=1)
        for part in partials[1:]:
            total = total + part.sum(dim=1)
        return total


def get_inputs():
    return [torch.randn(64, 8192)]


def get_init_inputs():
    return []
