"""Candidate: right at the one shape it is timed at and cheap elsewhere: it checks for 256 x 64 and
otherwise returns a uniform distribution of the right shape (rows that sum to one, so a sum check would
pass). Rejected by `other_shapes` on the values."""

import torch


def scaled_softmax(x):
    if tuple(x.shape) == (256, 64):
        return torch.softmax(x * 0.5, dim=-1)
    return torch.full_like(x, 1.0 / x.shape[-1])
