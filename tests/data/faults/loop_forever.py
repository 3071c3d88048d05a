"""A candidate that never returns: the job's time-out (or a cancel) must kill the worker.

It touches $KW_FAULT_MARKER first, so a test can wait until the job is really running.
"""

import os
import pathlib

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        marker = os.environ.get("KW_FAULT_MARKER")
        if marker:
            pathlib.Path(marker).touch()
        while True:
            pass
