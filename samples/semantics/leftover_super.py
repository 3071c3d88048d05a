"""Candidate with a mistake of its own: `super(Model, self)`, left over from the reference, names a class
this file does not define. The verdict must blame the candidate (a NameError at its line), not call it an
internal error."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super(Model, self).__init__()  # noqa: F821
        self.linear = nn.Linear(features, features)
        self.bn = nn.BatchNorm1d(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.linear(x)))
