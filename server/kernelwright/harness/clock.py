"""The clocks, synchronisation and statistics the harness measures with, captured at import.

The worker imports this module before it loads any candidate, so a candidate that later replaces
`time.perf_counter`, `torch.cuda.synchronize`, `torch.cuda.Event` or `statistics.median` cannot steer
our measurements (docs/PITFALLS.md 2), and `tampered()` can tell that it tried.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

perf_counter: Callable[[], float] = time.perf_counter
perf_counter_ns: Callable[[], int] = time.perf_counter_ns
median: Callable[..., Any] = statistics.median
quantiles: Callable[..., Any] = statistics.quantiles
fmean: Callable[..., Any] = statistics.fmean
cuda_synchronize: Callable[..., None] = torch.cuda.synchronize
CudaEvent: type = torch.cuda.Event
# torch.cuda._sleep's kernel (spins for N clock cycles); absent from CPU builds of torch.
cuda_sleep: Callable[[int], None] | None = getattr(torch._C, "_cuda_sleep", None)
Thread: type = threading.Thread


@dataclass(frozen=True)
class _Watched:
    owner: object
    attr: str
    original: object


def _watch_list() -> tuple[_Watched, ...]:
    tensor = torch.Tensor
    watched: list[_Watched] = [
        _Watched(time, "perf_counter", time.perf_counter),
        _Watched(time, "perf_counter_ns", time.perf_counter_ns),
        _Watched(time, "time", time.time),
        _Watched(time, "monotonic", time.monotonic),
        _Watched(statistics, "median", statistics.median),
        _Watched(statistics, "mean", statistics.mean),
        _Watched(statistics, "fmean", statistics.fmean),
        _Watched(statistics, "quantiles", statistics.quantiles),
        _Watched(torch.cuda, "synchronize", torch.cuda.synchronize),
        _Watched(torch.cuda, "Event", torch.cuda.Event),
        _Watched(torch.cuda.Event, "elapsed_time", torch.cuda.Event.elapsed_time),
        _Watched(torch.cuda.Event, "record", torch.cuda.Event.record),
        _Watched(torch.cuda.Event, "synchronize", torch.cuda.Event.synchronize),
        _Watched(torch, "allclose", torch.allclose),
        _Watched(torch, "isclose", torch.isclose),
        _Watched(torch, "equal", torch.equal),
        _Watched(torch.testing, "assert_close", torch.testing.assert_close),
    ]
    # Tensor methods the comparison and copying code relies on.
    for name in ("__sub__", "abs", "clone", "copy_", "float", "double", "to", "max", "norm", "isnan", "eq"):
        watched.append(_Watched(tensor, name, tensor.__dict__.get(name, getattr(tensor, name))))
    return tuple(watched)


_WATCHED = _watch_list()


def _current(w: _Watched) -> object:
    if isinstance(w.owner, type):
        return w.owner.__dict__.get(w.attr, getattr(w.owner, w.attr, None))
    return getattr(w.owner, w.attr, None)


def tampered() -> tuple[str, ...]:
    """The dotted names of watched attributes that no longer hold what they held at import."""
    out: list[str] = []
    for w in _WATCHED:
        if _current(w) is not w.original:
            owner = w.owner.__name__ if hasattr(w.owner, "__name__") else type(w.owner).__name__
            out.append(f"{owner}.{w.attr}")
    return tuple(out)


def restore() -> None:
    """Put back what a candidate replaced, so a rejected candidate cannot poison later jobs."""
    for w in _WATCHED:
        if _current(w) is not w.original:
            setattr(w.owner, w.attr, w.original)
