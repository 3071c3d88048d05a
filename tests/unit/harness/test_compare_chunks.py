"""The comparison works chunk by chunk (harness/compare.py): the same verdicts, counts, first indices and
norms whatever the chunk size, so a large output needs only a chunk's float64 copies beyond itself."""

from __future__ import annotations

import math

import pytest
import torch
from kernelwright.core.measure import CheckName
from kernelwright.harness import compare as cmp


def _pair() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(3)
    r = torch.randn(7, 33, 5)
    r[1, 2, 3] = float("inf")
    r[4, 0, 0] = float("nan")
    c = r.clone()
    c[4, 0, 0] = float("nan")  # NaN where the reference is NaN: equal
    return c, r


@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 21])
def test_chunk_size_does_not_change_any_answer(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(cmp, "CHUNK", chunk)
    c, r = _pair()
    assert cmp.compare(c, r, None, None) is None
    bad = c.clone()
    bad[5, 10, 1] += 1.0
    bad[6, 32, 4] -= 2.0
    m = cmp.compare(bad, r, None, None)
    assert m is not None and m.check is CheckName.VALUE
    assert "2 of 1155 elements" in m.message and "first at index (5, 10, 1)" in m.message
    assert m.details["max_abs_err"] == pytest.approx(2.0)
    holes = c.clone()
    holes[6, 1, 2] = float("nan")
    m = cmp.compare(holes, r, None, None)
    assert m is not None and m.check is CheckName.UNWRITTEN and "(6, 1, 2)" in m.message
    finite = torch.nan_to_num(r, nan=0.0, posinf=0.0)
    scaled = finite * 1.01
    want = float(
        torch.linalg.vector_norm((scaled - finite).double()) / torch.linalg.vector_norm(finite.double())
    )
    assert cmp.rel_error_norm(scaled, finite) == pytest.approx(want, rel=1e-12)


def test_the_norm_does_not_overflow_in_float64_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cmp, "CHUNK", 3)
    r = torch.full((10,), 1e200, dtype=torch.float64)
    c = r * (1 + 1e-9)
    assert cmp.rel_error_norm(c, r) == pytest.approx(1e-9, rel=1e-3)
    assert math.isfinite(cmp.rel_error_norm(c, r))


def test_a_small_output_off_in_norm_only_can_skip_the_norm_check() -> None:
    r = torch.full((100,), 1e-6)
    c = torch.zeros(100)
    m = cmp.compare(c, r, None, None)
    assert m is not None and m.check is CheckName.ERROR_NORM
    assert cmp.compare(c, r, None, None, check_norm=False) is None
