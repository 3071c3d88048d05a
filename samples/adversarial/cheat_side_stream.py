"""Cheat (GPU): launches the work on a side stream and returns without waiting, so events recorded on the
current stream time almost nothing.

Caught by: timing (host wall time around a full synchronise disagrees with the device events). On the
CPU there is no stream, and the candidate is simply correct.
"""

import torch

_side = None


def row_softmax(x: torch.Tensor) -> torch.Tensor:
    global _side
    if not x.is_cuda:
        return torch.softmax(x, dim=-1)
    if _side is None:
        _side = torch.cuda.Stream()
    out = torch.empty_like(x)
    _side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(_side):
        for _ in range(20):  # extra work that the current stream's events do not see
            out.copy_(torch.softmax(x, dim=-1))
    return out
