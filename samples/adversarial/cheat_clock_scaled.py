"""Cheat: silences the worker's live tamper check, then makes the harness's clocks in its process run at a
tenth of their speed (through sys.modules and computed names): the host clock, and on a GPU the events' elapsed
time, so every time it reports is 10x too short.

Caught by: timing (the judge's clock around the candidate's timing blocks disagrees with the reported
times). Its outputs are right, so without timing nothing is forged.
"""

import sys
import time

import torch
import torch.nn as nn

_real = time.perf_counter
_clock = sys.modules["kernelwright.harness." + "clock"]
setattr(_clock, "tam" + "pered", lambda: [])
_start = _real()
setattr(_clock, "perf_" + "counter", lambda: _start + (_real() - _start) / 10.0)
if torch.cuda.is_available():

    class _SlowEvent(torch.cuda.Event):
        def elapsed_time(self, end_event):
            return super().elapsed_time(end_event) / 10.0

    setattr(_clock, "Cuda" + "Event", _SlowEvent)


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.weight)
