"""Candidate for the eval-mode reference: BatchNorm's running statistics folded into the linear layer's
weights (one matmul and a ReLU), the classic inference rewrite: right in eval mode, so it must pass."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.linear = nn.Linear(features, features)
        self.bn = nn.BatchNorm1d(features)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1.0, 1.0)
            self.bn.running_var.uniform_(0.5, 2.0)
            scale = self.bn.weight * torch.rsqrt(self.bn.running_var + self.bn.eps)
            self.weight = nn.Parameter(self.linear.weight * scale[:, None])
            self.bias = nn.Parameter((self.linear.bias - self.bn.running_mean) * scale + self.bn.bias)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(torch.addmm(self.bias, x, self.weight.t()))
