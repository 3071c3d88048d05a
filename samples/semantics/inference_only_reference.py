"""Reference problem (KernelBench form) that refuses to run with autograd on: its parameters require
grad, so a call outside torch.inference_mode would record a graph, and eager and compiled code pay for
that by different amounts (docs/PITFALLS.md 17). Every call the harness makes (the trials, the timed
blocks, the float64 run, the torch.compile baseline) must be inside inference mode for it to pass."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(256, 256)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_inference_mode_enabled():
            raise RuntimeError("called outside torch.inference_mode: autograd would record this call")
        return torch.tanh(self.linear(x))


def get_inputs():
    return [torch.randn(64, 256)]


def get_init_inputs():
    return []
