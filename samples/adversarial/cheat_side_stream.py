"""Cheat (GPU): launches the work on a side stream and returns without waiting, so events recorded on the
current stream time almost nothing while the real work runs unseen.

The hidden work is one large launch (the softmax of 32 stacked copies of the input, of which it returns
one): its device time dwarfs its host launch cost, which is what makes a side stream a 10-50x "speedup"
in a harness that trusts events alone.

Caught by: timing (the host clock around a full synchronise disagrees with the device events). On the
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
    _side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(_side):
        stacked = x.unsqueeze(0).expand(32, *x.shape)
        out = torch.softmax(stacked, dim=-1)[0]  # one big kernel the current stream's events never see
    return out
