"""Written for the timed shape only, in another form: a loop bound fixed to the timed 128 tokens. It
normalises the first 128 tokens of each sequence and passes the rest through, which is right at the timed
shape and wrong at every longer one. Rejected by `other_shapes` (wrong values, not an error)."""

import torch
from torch import nn

TOKENS = 128


class ModelNew(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, hidden))

    def forward(self, x):
        out = x.clone()
        head = x[:, :TOKENS]
        rms = torch.rsqrt(head.pow(2).mean(dim=-1, keepdim=True) + 1e-6)
        out[:, :TOKENS] = torch.nn.functional.silu(head * rms * self.scale)
        return out
