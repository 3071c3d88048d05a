"""Every way a candidate can die, each followed by a good job on the same pool.

The candidates are files in tests/data/faults/. These tests drive them through the stand-in handler's
`run` job (the transport alone); test_faults_verify.py drives the same files through the harness's
real verify job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.core.protocol import ErrorCode
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import WorkerPool

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

FAULTS = Path(__file__).resolve().parents[2] / "data" / "faults"


def run(candidate: str) -> dict[str, str]:
    return {"reference": str(FAULTS / "reference.py"), "candidate": str(FAULTS / candidate)}


async def fails(pool: WorkerPool, candidate: str, **kw: float) -> JobError:
    with pytest.raises(JobError) as err:
        await pool.submit("run", run(candidate), fresh=True, **kw)  # type: ignore[arg-type]
    return err.value


async def still_works(pool: WorkerPool) -> None:
    assert await pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}


async def test_segfault(fault_pool: WorkerPool) -> None:
    err = await fails(fault_pool, "segfault.py")
    assert err.code is ErrorCode.CRASH
    assert "SIGSEGV (segmentation fault)" in err.message
    assert "about to read address 0" in err.output.text
    assert "Segmentation fault" in err.output.text  # faulthandler's traceback
    await still_works(fault_pool)


async def test_endless_loop_times_out(fault_pool: WorkerPool) -> None:
    start = time.monotonic()
    err = await fails(fault_pool, "loop_forever.py", timeout=4.0)
    assert err.code is ErrorCode.TIMEOUT and "within 4 s" in err.message
    assert time.monotonic() - start < 30
    await still_works(fault_pool)


async def test_allocating_until_memory_runs_out(make_config: Callable[..., WorkerConfig]) -> None:
    async with WorkerPool(["cpu"], config=make_config(cpu_memory_cap_bytes=2 * GiB), standby=False) as pool:
        err = await fails(pool, "allocate_forever.py")
        assert err.code is ErrorCode.OOM
        await still_works(pool)


async def test_sys_exit(fault_pool: WorkerPool) -> None:
    err = await fails(fault_pool, "sys_exit.py")
    assert err.code is ErrorCode.EXIT and "sys.exit(3)" in err.message
    await still_works(fault_pool)


async def test_os_exit(fault_pool: WorkerPool) -> None:
    err = await fails(fault_pool, "os_exit.py")
    assert err.code is ErrorCode.EXIT and "exited with code 7" in err.message
    assert "leaving now" in err.output.text
    await still_works(fault_pool)


async def test_printing_megabytes_neither_blocks_nor_floods(fault_pool: WorkerPool) -> None:
    outcome = await fault_pool.execute("run", run("print_megabytes.py"), fresh=True)
    assert outcome.result == {"numel": 256}
    assert outcome.output.total_bytes > 20 * 1024 * 1024
    assert outcome.output.truncated and len(outcome.output.text) <= fault_pool.config.output_tail_bytes
    assert outcome.output.text.rstrip().endswith("THE LAST LINE")
    await still_works(fault_pool)


async def test_raising_at_import(fault_pool: WorkerPool) -> None:
    err = await fails(fault_pool, "raise_at_import.py")
    assert err.code is ErrorCode.EXCEPTION
    assert "broken at import" in err.message and "raise_at_import.py" in err.info.traceback
    await still_works(fault_pool)


async def test_endless_output_hits_the_file_size_limit(make_config: Callable[..., WorkerConfig]) -> None:
    config = make_config(file_size_limit_bytes=4 * 1024 * 1024)
    async with WorkerPool(["cpu"], config=config, standby=False) as pool:
        err = await fails(pool, "print_megabytes.py")
        # Python ignores SIGXFSZ: the write fails with EFBIG and the job says why.
        assert err.code is ErrorCode.EXCEPTION and "file-size limit" in err.message
        await still_works(pool)


async def test_cancel_mid_job_kills_the_worker_at_once(fault_pool: WorkerPool, tmp_path: Path) -> None:
    marker = tmp_path / "caches" / "candidates" / "started"  # loop_forever.py touches it as it starts looping
    handle = fault_pool.submit_cancellable("run", run("loop_forever.py"), fresh=True, timeout=120)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and not handle.done(), "the job never started"
        await asyncio.sleep(0.02)
    looping = fault_pool.pids()
    handle.cancel()
    start = time.monotonic()
    with pytest.raises(JobError) as err:
        await handle.result()
    assert err.value.code is ErrorCode.CANCELLED
    assert time.monotonic() - start < 5
    assert not set(looping) & set(fault_pool.pids())
    await still_works(fault_pool)


async def test_cancelling_the_awaiting_task_kills_the_worker(fault_pool: WorkerPool, tmp_path: Path) -> None:
    marker = tmp_path / "caches" / "candidates" / "started"
    task = asyncio.ensure_future(fault_pool.submit("run", run("loop_forever.py"), fresh=True, timeout=120))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and not task.done(), "the job never started"
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fault_pool.pids() == []
    await still_works(fault_pool)
