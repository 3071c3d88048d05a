"""The fault candidates of tests/data/faults/ through the REAL job path: a verify job, the real worker,
the real harness. Each fault is rejected with what happened, and the same pool then passes an honest
candidate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kernelwright.core.jobs import CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.measure import CheckName, Verdict
from kernelwright.core.protocol import ErrorCode
from kernelwright.core.site import ModuleSpec, SiteKind
from kernelwright.engine import client
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import WorkerPool

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

FAULTS = Path(__file__).resolve().parents[2] / "data" / "faults"
REFERENCE = ProblemRef(
    path=str(FAULTS / "reference.py"),
    source=(FAULTS / "reference.py").read_text(),
    symbol="Model",
    kind=SiteKind.TORCH_MODULE,
    spec=ModuleSpec(),
)


def job(candidate: str) -> VerifyJob:
    path = FAULTS / candidate
    return VerifyJob(REFERENCE, CandidateRef(str(path), path.read_text()), device="cpu", trials=2)


def harness_config(tmp_path: Path, **overrides: object) -> WorkerConfig:
    settings: dict[str, object] = {
        "extra_env": {"KW_FAULT_MARKER": str(tmp_path / "caches" / "candidates" / "started")},
        "cpu_memory_cap_bytes": 3 * GiB,
        "cache_dir": tmp_path / "caches",  # the marker goes in the candidates' part: their box writes it
    }
    settings.update(overrides)
    return WorkerConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[WorkerPool]:
    async with WorkerPool(["cpu"], config=harness_config(tmp_path), standby=False) as p:
        yield p


async def rejected(pool: WorkerPool, candidate: str, **kw: float) -> Verdict:
    verdict = await client.verify(pool, job(candidate), **kw)
    assert not verdict.passed, verdict.message
    return verdict


async def still_works(pool: WorkerPool) -> None:
    verdict = await client.verify(pool, job("honest.py"))
    assert verdict.passed, verdict.message


async def test_the_honest_candidate_passes_in_a_fresh_worker_each_time(pool: WorkerPool) -> None:
    first = await pool.execute("verify", to_json(job("honest.py")))
    second = await pool.execute("verify", to_json(job("honest.py")))
    assert first.worker_pid != second.worker_pid
    assert isinstance(first.result, dict) and first.result["passed"] is True
    ping = await client.ping(pool, pool.devices[0])
    assert ping.versions.torch and ping.device.kind == "cpu"


async def test_segfault(pool: WorkerPool) -> None:
    verdict = await rejected(pool, "segfault.py")
    assert verdict.check is CheckName.RUN and "SIGSEGV" in verdict.message
    assert verdict.worker_error is ErrorCode.CRASH
    # faulthandler's stack names the candidate's file: the person sees where it died.
    assert verdict.traceback_tail and "segfault.py" in verdict.traceback_tail
    await still_works(pool)


async def test_endless_loop_times_out(pool: WorkerPool) -> None:
    start = time.monotonic()
    verdict = await rejected(pool, "loop_forever.py", timeout=6.0)
    assert "timeout" in verdict.message and verdict.worker_error is ErrorCode.TIMEOUT
    assert time.monotonic() - start < 40
    await still_works(pool)


async def test_allocating_until_memory_runs_out(tmp_path: Path) -> None:
    config = harness_config(tmp_path, cpu_memory_cap_bytes=2 * GiB)
    async with WorkerPool(["cpu"], config=config, standby=False) as pool:
        verdict = await rejected(pool, "allocate_forever.py")
        assert verdict.check in (CheckName.RUN, CheckName.MEMORY)
        assert "MemoryError" in verdict.message or "memory" in verdict.message.lower()
        await still_works(pool)


async def test_sys_exit(pool: WorkerPool) -> None:
    verdict = await rejected(pool, "sys_exit.py")
    assert "sys.exit(3)" in verdict.message and verdict.worker_error is ErrorCode.EXIT
    await still_works(pool)


async def test_os_exit(pool: WorkerPool) -> None:
    verdict = await rejected(pool, "os_exit.py")
    assert "exited with code 7" in verdict.message
    await still_works(pool)


async def test_printing_megabytes_still_passes(pool: WorkerPool) -> None:
    outcome = await pool.execute("verify", to_json(job("print_megabytes.py")))
    assert isinstance(outcome.result, dict) and outcome.result["passed"] is True
    assert outcome.output.total_bytes > 20 * 1024 * 1024 and outcome.output.truncated
    assert len(outcome.output.text) <= pool.config.output_tail_bytes
    await still_works(pool)


async def test_raising_at_import_is_a_load_rejection(pool: WorkerPool) -> None:
    verdict = await rejected(pool, "raise_at_import.py")
    assert verdict.check is CheckName.LOAD and "broken at import" in verdict.message
    await still_works(pool)


async def test_cancel_mid_verify(pool: WorkerPool, tmp_path: Path) -> None:
    marker = tmp_path / "caches" / "candidates" / "started"
    handle = pool.submit_cancellable("verify", to_json(job("loop_forever.py")), timeout=120)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert time.monotonic() < deadline and not handle.done(), "the candidate never started"
        await asyncio.sleep(0.05)
    handle.cancel()
    with pytest.raises(JobError) as err:
        await handle.result()
    assert err.value.code is ErrorCode.CANCELLED
    assert pool.pids() == []
    await still_works(pool)
