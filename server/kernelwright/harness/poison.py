"""NaN-fill memory a candidate might get back uninitialised (docs/PITFALLS.md 9).

On CUDA the caching allocator hands freed blocks back as they are, so a candidate that returns
`torch.empty(...)` unwritten can read the reference's previous output and "pass". Before each candidate
call we claim every free block the allocator holds (block by block, best-fit hands us exactly those
blocks), plus blocks of the expected output sizes, fill them with NaN bytes and free them again.
On the CPU we do the output sizes only: glibc reuses recently freed chunks of the same size first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from kernelwright.harness import clock
from kernelwright.harness.compare import tensors_in

_NAN_BYTE = 0xFF  # every float format reads 0xFF..FF as NaN; integer outputs read -1


def _fill(t: torch.Tensor) -> None:
    t.view(torch.uint8).fill_(_NAN_BYTE)


def _free_cuda_blocks(device: torch.device) -> list[int]:
    sizes: list[int] = []
    try:
        snapshot = torch.cuda.memory_snapshot()  # type: ignore[no-untyped-call]
    except Exception:  # older builds or no allocator stats: fall back to output sizes only
        return sizes
    for segment in snapshot:
        if segment.get("device") not in (device.index, None):
            continue
        for block in segment.get("blocks", []):
            if block.get("state") == "inactive" and int(block.get("size", 0)) > 0:
                sizes.append(int(block["size"]))
    return sizes


def poison(device: torch.device, output_nbytes: Iterable[int] = ()) -> None:
    """Fill free allocator memory (CUDA) and blocks of the given sizes with NaN bytes, then free them."""
    held: list[torch.Tensor] = []
    sizes = list(output_nbytes)
    if device.type == "cuda":
        sizes = _free_cuda_blocks(device) + sizes
    for n in sizes:
        if n <= 0:
            continue
        try:
            t = torch.empty(n, dtype=torch.uint8, device=device)
        except torch.OutOfMemoryError:
            break
        _fill(t)
        held.append(t)
    if device.type == "cuda":
        clock.cuda_synchronize(device)
    del held


def nbytes_of(outputs: Any) -> list[int]:
    return [t.numel() * t.element_size() for t in tensors_in(outputs)]
