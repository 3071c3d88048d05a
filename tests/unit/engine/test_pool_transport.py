"""Real worker processes behind the real protocol, serving the stand-in handler (no harness needed)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.core.protocol import ErrorCode
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import SyncWorkerPool, WorkerPool

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


async def test_a_worker_says_hello_and_answers(fault_pool: WorkerPool) -> None:
    payload = {"text": "héllo\nworld", "n": [1, 2.5, None]}
    assert await fault_pool.submit("echo", payload) == payload
    hello = fault_pool.hello(fault_pool.devices[0])
    assert hello is not None and hello.device == "cpu"
    assert hello.info == {"pid": hello.pid, "device": "cpu", "handler": "fault_handler"}


async def test_reference_jobs_reuse_a_worker_and_fresh_jobs_never_do(fault_pool: WorkerPool) -> None:
    first = await fault_pool.execute("echo", 1, fresh=False)
    second = await fault_pool.execute("echo", 2, fresh=False)
    assert first.worker_pid == second.worker_pid
    fresh_a = await fault_pool.execute("echo", 3, fresh=True)
    fresh_b = await fault_pool.execute("echo", 4, fresh=True)
    assert len({first.worker_pid, fresh_a.worker_pid, fresh_b.worker_pid}) == 3
    # A retired worker is gone; the shared one lives on.
    assert fault_pool.pids() == [first.worker_pid]


async def test_a_standby_worker_is_ready_before_the_candidate_job(
    make_config: Callable[..., WorkerConfig],
) -> None:
    async with WorkerPool(["cpu"], config=make_config(), standby=True) as pool:
        deadline = time.monotonic() + 60
        while not pool.pids():
            assert time.monotonic() < deadline, "the standby never came up"
            await asyncio.sleep(0.05)
        (standby,) = pool.pids()
        outcome = await pool.execute("echo", "x", fresh=True)
        assert outcome.worker_pid == standby
        assert standby not in pool.pids()  # retired after running candidate code
        assert len(pool.pids()) == 1  # and a new standby took its place


async def test_unknown_job_types_are_bad_requests_and_the_worker_survives(fault_pool: WorkerPool) -> None:
    first = await fault_pool.execute("echo", 0)
    with pytest.raises(JobError) as err:
        await fault_pool.submit("launch_rockets", {})
    assert err.value.code is ErrorCode.BAD_REQUEST
    assert (await fault_pool.execute("echo", 1)).worker_pid == first.worker_pid


async def test_secrets_never_reach_a_worker(
    make_config: Callable[..., WorkerConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-a-real-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-real")
    monkeypatch.setenv("KW_HARMLESS", "kept")
    async with WorkerPool(["cpu"], config=make_config(), standby=False) as pool:
        seen = await pool.submit(
            "env",
            {"names": ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "KW_HARMLESS", "TRITON_INTERPRET", "TMPDIR"]},
        )
    assert isinstance(seen, dict)
    assert seen["ANTHROPIC_API_KEY"] is None and seen["OPENAI_API_KEY"] is None
    assert seen["KW_HARMLESS"] == "kept" and seen["TRITON_INTERPRET"] == "1"
    assert isinstance(seen["TMPDIR"], str) and "kernelwright-worker-" in seen["TMPDIR"]


async def test_close_kills_every_worker(make_config: Callable[..., WorkerConfig]) -> None:
    pool = WorkerPool(["cpu"], config=make_config(), standby=True)
    await pool.start()
    await pool.submit("echo", 1, fresh=False)
    pids = pool.pids()
    assert pids
    await pool.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_a_worker_that_cannot_start_says_why(make_config: Callable[..., WorkerConfig]) -> None:
    async with WorkerPool(
        ["cpu"], config=make_config(handler="no_such_module:handle"), standby=False
    ) as pool:
        with pytest.raises(JobError) as err:
            await pool.submit("echo", 1)
    assert err.value.code is ErrorCode.START_FAILED
    assert "No module named 'no_such_module'" in str(err.value)


async def test_a_missing_interpreter_is_a_start_failure(
    make_config: Callable[..., WorkerConfig], tmp_path: Path
) -> None:
    async with WorkerPool(["cpu"], config=make_config(python=str(tmp_path / "nope")), standby=False) as pool:
        with pytest.raises(JobError, match="cannot run") as err:
            await pool.submit("echo", 1)
    assert err.value.code is ErrorCode.START_FAILED


def test_the_sync_pool_serves_the_cli(make_config: Callable[..., WorkerConfig]) -> None:
    with SyncWorkerPool("cpu", config=make_config()) as pool:
        assert pool.submit("echo", [1, 2]) == [1, 2]


async def test_a_missing_interpreter_is_a_start_failure_for_a_candidate_too(
    make_config: Callable[..., WorkerConfig], tmp_path: Path
) -> None:
    async with WorkerPool(["cpu"], config=make_config(python=str(tmp_path / "nope")), standby=False) as pool:
        with pytest.raises(JobError, match="cannot run") as err:
            await pool.submit("echo", 1, fresh=True)
    assert err.value.code is ErrorCode.START_FAILED
