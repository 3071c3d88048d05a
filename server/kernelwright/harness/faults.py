"""What an exception from a job says about the machine, read from its type and text alone: no torch
import here, so the worker's own error handling (harness/worker.py) can use it before torch loads."""

from __future__ import annotations

_OOM_MARKERS = ("can't allocate memory", "out of memory", "cannot allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's allocators raise RuntimeError on the CPU (OutOfMemoryError on CUDA), not MemoryError."""
    text = str(exc).lower()
    return (
        isinstance(exc, MemoryError)
        or type(exc).__name__ == "OutOfMemoryError"
        or any(marker in text for marker in _OOM_MARKERS)
    )
