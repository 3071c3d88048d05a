"""A rewrite of inference_only_reference.Model (one addmm, then tanh) with the same guard: it passes only if
the candidate's every call is made inside torch.inference_mode, timed ones included."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(256, 256)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_inference_mode_enabled():
            raise RuntimeError("called outside torch.inference_mode: autograd would record this call")
        return torch.tanh(torch.addmm(self.linear.bias, x, self.linear.weight.t()))
