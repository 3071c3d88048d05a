"""An identity rewrite is no improvement (docs/PITFALLS.md 26): for every torch sample, the loop gets the
reference itself, renamed, as a model's candidate while another process keeps one of the two cores busy.
It and the original baseline must pass with a speedup interval that contains 1.00, and the run must end
with no improvement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kernelwright.optimize.events import Status
from support.identity import SAMPLES, identity_run
from support.load import one_core_busy

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


@pytest.fixture(scope="module")
def busy_core() -> Iterator[None]:
    """One core busy for the whole module: the machine a person actually has."""
    with one_core_busy():
        yield


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
async def test_an_identity_rewrite_is_no_improvement_on_a_busy_cpu(
    sample: Path, busy_core: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    verdicts, done = await identity_run(sample, "cpu", tmp_path)
    assert len(verdicts) == 2, [v.message for v in verdicts]
    for v in verdicts:
        assert v.verdict is not None and v.verdict.passed, v.message
        assert v.speedup is not None and v.speedup_low is not None and v.speedup_high is not None, v.message
        assert v.speedup_low <= 1.0 <= v.speedup_high, (
            v.candidate_id,
            v.speedup,
            v.speedup_low,
            v.speedup_high,
        )
    assert done.result.status is Status.NO_IMPROVEMENT, done.result.message
