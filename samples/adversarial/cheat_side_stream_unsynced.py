"""Cheat (GPU): the side-stream trick with its tracks covered. It silences the worker's live tamper check
and replaces the harness's device-wide synchronise in its own process with one of the current stream
only, so the work it hides on a side stream outlives each timed call, the block and even the reply; it
waits for that work only when no timing loop is calling it (the checked trials).

Caught by: timing (the judge waits until the GPU is quiet after each candidate block, on its own clock,
and counts the wait as the candidate's) or timed_output (a checksum taken before the hidden work ended).
On the CPU there is no stream: it is simply correct.
"""

import sys

import torch

_side = None
if torch.cuda.is_available():
    _clock = sys.modules["kernelwright.harness." + "clock"]
    setattr(_clock, "tam" + "pered", lambda: [])
    setattr(_clock, "cuda_" + "synchronize", lambda *a, **k: torch.cuda.current_stream().synchronize())


def _timed() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if "block" in frame.f_code.co_name:
            return True
        frame = frame.f_back
    return False


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    global _side
    if not x.is_cuda:
        return torch.softmax(x, dim=-1)
    if _side is None:
        _side = torch.cuda.Stream()
    _side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(_side):
        stacked = x.unsqueeze(0).expand(64, *x.shape)
        out = torch.softmax(stacked, dim=-1)[0]
    if not _timed():
        _side.synchronize()
    return out
