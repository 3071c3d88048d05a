"""Reference problem (function form) with a `shapes=` factory: its inputs are timed at one shape, 256 rows
of 64, and every candidate must also be right at other shapes, which `make_other_shapes` draws from the
seeded generator (each trial sees other ones). A candidate written for 256 x 64 only is rejected by
`other_shapes` (docs/PITFALLS.md 12).
"""

import torch


def make_inputs():
    return (torch.randn(256, 64),)


def make_other_shapes():
    rows = int(torch.randint(1, 300, ()))
    cols = int(torch.randint(65, 200, ()))
    return (torch.randn(rows, cols),)


# kernelwright: bench inputs=make_inputs shapes=make_other_shapes
def scaled_softmax(x):
    return torch.softmax(x * 0.5, dim=-1)
