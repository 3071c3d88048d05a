"""The samples are correct code: no catalogue rule may fire on them, and every one has a site."""

from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.analysis import analyze

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(
    p
    for d in ("pytorch", "triton", "cuda")
    for p in (ROOT / "samples" / d).glob("*")
    if p.suffix in (".py", ".cu")
)


def test_there_are_samples() -> None:
    assert len(SAMPLES) >= 12


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_findings_on_samples(path: Path) -> None:
    result = analyze(path.read_bytes(), str(path))
    assert result.findings == (), [(f.rule, f.range.start, f.message) for f in result.findings]
    assert result.sites, "every sample shows at least one site"
    # every sample is benchmarkable as written: some site carries a spec
    assert any(s.spec is not None for s in result.sites)
