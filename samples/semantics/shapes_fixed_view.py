"""Candidate: written for the timed shape only, it views its input as 256 x 64 (a layout fixed in the
code); at other shapes the view raises. Rejected by `other_shapes`."""

import torch


def scaled_softmax(x):
    rows = x.reshape(256, 64) * 0.5
    return torch.softmax(rows, dim=-1)
