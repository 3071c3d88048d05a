"""A candidate whose kernel dereferences a null pointer: the worker dies of SIGSEGV."""

import ctypes

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("about to read address 0", flush=True)
        ctypes.string_at(0)
        return x
