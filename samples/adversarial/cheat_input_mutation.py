"""Cheat: computes softmax in place in its input, saving an allocation and corrupting the caller's data.

Caught by: input_mutation (inputs are cloned before the call and compared after).
"""

import torch


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    x.sub_(x.amax(dim=-1, keepdim=True)).exp_()
    return x.div_(x.sum(dim=-1, keepdim=True))
