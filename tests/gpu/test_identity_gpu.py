"""On a GPU, an identity rewrite of every torch sample through the loop reads within the systematic floor
(2.5%) of 1.00, with an
interval that contains 1.00, and is no improvement. Run on the device machine: `pytest -m gpu tests/gpu`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from kernelwright.core.measure import DeviceKind
from kernelwright.harness.interleave_stats import SYSTEMATIC_FLOOR
from kernelwright.optimize.events import Status
from support.identity import SAMPLES, identity_run

pytestmark = pytest.mark.gpu


@pytest.mark.timeout(600)
@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
async def test_an_identity_rewrite_reads_one_within_the_floor(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    verdicts, done = await identity_run(sample, "cuda", tmp_path)
    assert len(verdicts) == 2, [v.message for v in verdicts]
    for v in verdicts:
        assert v.verdict is not None
        print(sample.stem, v.candidate_id, v.speedup, v.speedup_low, v.speedup_high)
        assert v.verdict.passed, (v.message, v.verdict.notes)
        assert v.speedup is not None and v.speedup_low is not None and v.speedup_high is not None
        assert abs(math.log(v.speedup)) <= SYSTEMATIC_FLOOR[DeviceKind.CUDA], (
            sample.name,
            v.candidate_id,
            v.speedup,
        )
        assert v.speedup_low <= 1.0 <= v.speedup_high, (v.candidate_id, v.speedup_low, v.speedup_high)
    assert done.result.status is Status.NO_IMPROVEMENT, done.result.message
