"""Candidate: the softmax written out (the row's maximum taken off, exponentials over their sum), right at
any shape. Passes, its verdict noting the other shapes it was checked at."""

import torch


def scaled_softmax(x):
    z = x * 0.5
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)
