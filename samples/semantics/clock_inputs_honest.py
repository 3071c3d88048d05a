"""An honest ReLU for clock_inputs_reference: rejected all the same, as `problem`, since the reference's
input factory draws other inputs from the same seed in the judge's own process."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp_min(0.0)
