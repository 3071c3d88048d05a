"""Worker start overlapped with evaluation: several warm standbys per device, a real wait for them, the
start-up time of every worker, and compile caches shared by the pool's workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.pool import WorkerPool

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CACHE_VARS = ["TRITON_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR"]


def test_two_standbys_on_a_gpu_one_on_the_cpu_unless_configured() -> None:
    assert WorkerConfig().standbys_for(is_cpu=False) == 3
    assert WorkerConfig().standbys_for(is_cpu=True) == 1
    assert WorkerConfig(standby_count=3).standbys_for(is_cpu=True) == 3
    assert WorkerConfig(standby_count=0).standbys_for(is_cpu=False) == 1  # a candidate needs one


async def test_ready_returns_once_every_standby_has_said_hello(
    make_config: Callable[..., WorkerConfig],
) -> None:
    async with WorkerPool(["cpu"], config=make_config(standby_count=2), standby=True) as pool:
        await pool.ready("cpu")
        assert len(pool.pids()) == 2
        starts = pool.worker_starts("cpu")
        assert len(starts) == 2 and all(s > 0 for s in starts)


async def test_ready_without_standbys_returns_at_once(fault_pool: WorkerPool) -> None:
    await asyncio.wait_for(fault_pool.ready(), 5.0)
    assert fault_pool.pids() == []


async def test_back_to_back_candidates_never_wait_for_a_worker_start(
    make_config: Callable[..., WorkerConfig],
) -> None:
    count = 2
    async with WorkerPool(["cpu"], config=make_config(standby_count=count), standby=True) as pool:
        await pool.ready("cpu")
        warm = set(pool.pids())
        most = 0
        running = True

        async def sample() -> None:
            nonlocal most
            while running:
                most = max(most, len(pool.pids()))
                await asyncio.sleep(0.005)

        sampler = asyncio.ensure_future(sample())
        outcomes = [await pool.execute("echo", i, fresh=True) for i in range(4)]
        running = False
        await sampler

        # Both of the first two jobs ran in workers that had said hello before the first job began.
        assert {outcomes[0].worker_pid, outcomes[1].worker_pid} == warm
        assert len({o.worker_pid for o in outcomes}) == 4  # every candidate in its own process
        for o in outcomes:
            assert o.worker_start_s is not None and o.worker_start_s > 0
            assert o.run_s >= 0 and o.quiet_wait_s >= 0
        # The second job's worker was already up: no start-up time stands between it and its job.
        assert outcomes[1].worker_wait_s < outcomes[1].worker_start_s  # type: ignore[operator]
        assert list(pool.recent_outcomes)[-4:] == outcomes
        # Bounded: the standbys plus the worker of the job in flight.
        assert most <= count + 1
        assert len(pool.worker_starts("cpu")) >= 4 + 1


async def _cache_env(pool: WorkerPool) -> tuple[dict[str, str | None], dict[str, str | None]]:
    first = await pool.submit("env", {"names": CACHE_VARS}, fresh=True)
    second = await pool.submit("env", {"names": CACHE_VARS}, fresh=True)
    assert isinstance(first, dict) and isinstance(second, dict)
    return first, second  # type: ignore[return-value]


async def test_the_pool_shares_its_compile_caches_and_removes_them(
    make_config: Callable[..., WorkerConfig],
) -> None:
    async with WorkerPool(["cpu"], config=make_config(cache_dir=None), standby=True) as pool:
        first, second = await _cache_env(pool)
        trusted = await pool.submit("env", {"names": CACHE_VARS}, fresh=False)
        assert first == second
        root = Path(str(first["TRITON_CACHE_DIR"])).parent
        assert Path(str(first["TORCHINDUCTOR_CACHE_DIR"])).parent == root
        # Candidates share their own caches, beside (never inside) the trusted workers' ones.
        assert root.name == "candidates" and root.parent.name.startswith("kernelwright-caches-")
        assert isinstance(trusted, dict)
        assert Path(str(trusted["TRITON_CACHE_DIR"])) == root.parent / "triton"
        assert root.is_dir()
    assert not root.parent.exists()


async def test_caches_per_worker_when_sharing_is_off(make_config: Callable[..., WorkerConfig]) -> None:
    async with WorkerPool(
        ["cpu"], config=make_config(share_caches=False, cache_dir=None), standby=True
    ) as pool:
        first, second = await _cache_env(pool)
        assert first["TRITON_CACHE_DIR"] != second["TRITON_CACHE_DIR"]


async def test_a_configured_cache_dir_takes_the_inductor_cache_too(
    make_config: Callable[..., WorkerConfig], tmp_path: Path
) -> None:
    config = make_config(cache_dir=tmp_path / "caches")
    async with WorkerPool(["cpu"], config=config, standby=False) as pool:
        first, second = await _cache_env(pool)
        trusted = await pool.submit("env", {"names": CACHE_VARS}, fresh=False)
    assert first == second
    assert first["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "caches" / "candidates" / "inductor")
    assert first["TRITON_CACHE_DIR"] == str(tmp_path / "caches" / "candidates" / "triton")
    assert isinstance(trusted, dict)
    assert trusted["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "caches" / "inductor")
