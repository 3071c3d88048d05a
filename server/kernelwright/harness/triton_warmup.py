"""Pays a worker's one-time Triton costs before it says hello.

The first Triton launch in a process costs about a second even when the kernel is in the compile cache:
the driver's launcher utilities are built or loaded, the ptxas version is asked, Triton's own sources
are hashed into its cache key. A standby worker pays that here, ahead of time, so the candidate it will
serve does not (its own kernels then cost only their compile or cache lookup).
"""

from __future__ import annotations

from typing import Any

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # the warm-up says so; nothing else here needs Triton
    triton = None

_copy: Any = None
if triton is not None:

    @triton.jit  # type: ignore[untyped-decorator]
    def _copy(src, dst, n, BLOCK: tl.constexpr):  # type: ignore[no-untyped-def]
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        tl.store(dst + offsets, tl.load(src + offsets, mask=mask), mask=mask)


def warm_triton(device: torch.device) -> str | None:
    """Compile (or load from the shared cache) and launch one tiny kernel. Returns why it could not, or
    None. Never raises: a failed warm-up only means the first candidate pays these costs itself."""
    if _copy is None:
        return "triton is not installed"
    try:
        src = torch.arange(64, dtype=torch.float32, device=device)
        dst = torch.empty_like(src)
        _copy[(1,)](src, dst, src.numel(), BLOCK=64)
        torch.cuda.synchronize(device)
        if not torch.equal(src, dst):
            return "the warm-up kernel returned wrong values"
    except Exception as exc:  # the candidate will meet the same problem and report it properly
        return f"{type(exc).__name__}: {exc}"
    return None
