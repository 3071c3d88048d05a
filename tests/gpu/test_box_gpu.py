"""The box on a GPU machine: a GPU candidate verified and timed inside it, seeing only its own card's
device nodes. Run on the device machine: `pytest -q tests/gpu -m gpu`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from kernelwright.core.jobs import CandidateRef
from kernelwright.engine import client, confinement
from kernelwright.engine.pool import WorkerPool
from support.adversarial import load_cases

pytestmark = [pytest.mark.gpu, pytest.mark.timeout(900)]
ADVERSARIAL = Path(__file__).resolve().parents[2] / "samples" / "adversarial"

SEES_DEVICES = """import os
raise RuntimeError("devices: " + " ".join(sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))))
"""
HONEST = load_cases()["honest_softmax.py"].job("cuda")  # timed, against softmax_reference.py


@pytest.mark.skipif(not confinement.support().available, reason="no box can be made here")
async def test_a_gpu_candidate_is_verified_and_timed_inside_the_box() -> None:
    async with WorkerPool(["cuda:0"], standby=False) as pool:
        verdict = await client.verify(pool, HONEST)
        outcome = pool.recent_outcomes[-1]
        probe_job = dataclasses.replace(
            HONEST, candidate=CandidateRef(str(ADVERSARIAL / "probe.py"), SEES_DEVICES)
        )
        probe = await client.verify(pool, probe_job)
    assert outcome.confined is True
    assert verdict.passed and verdict.speedup is not None, verdict.message
    assert verdict.measurement is not None and verdict.measurement.timing.method.value == "cuda_events"
    seen = probe.message.split("devices: ", 1)[1].split()
    own = {Path(n).name for n in confinement.gpu_nodes(pool.devices[0].physical, pool.devices[0].index)}
    assert set(seen) <= own | {"nvidia-caps"}, (seen, own)
    cards = [n for n in seen if n.removeprefix("nvidia").isdigit()]
    assert len(cards) == 1, seen
