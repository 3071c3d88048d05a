"""A candidate that ends the process with os._exit: no exception, no clean-up, just gone."""

import os

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("leaving now", flush=True)
        os._exit(7)
