"""Candidate: normalises over the first 64 columns only, the width it was shown (a loop bound fixed in the
code); at other widths every row sums to more than one. Nothing raises: rejected by `other_shapes` on the
values."""

import torch


def scaled_softmax(x):
    z = x * 0.5
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e[:, :64].sum(dim=-1, keepdim=True)
