"""Cheat: walks the garbage collector's objects for the reference's Model class (and instances) and
rebinds `Model.forward` to the identity, which is also what it computes itself.

Caught by: value (the judge's Model is in another process).
"""

import gc

import torch
import torch.nn as nn


def _identity(self, x):
    return x * self.scale


for _obj in gc.get_objects():
    if isinstance(_obj, type) and _obj.__name__ == "Model" and issubclass(_obj, nn.Module):
        _obj.forward = _identity


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(features) + 0.5)

    forward = _identity
