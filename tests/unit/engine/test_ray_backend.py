"""The Ray backend on a local Ray instance with CPU actors: the same jobs, faults and verdicts as the
local pool, and jobs spread over actors while each actor runs one at a time.

Workers serve tests/data/ray/ray_handler.py (the fault handler's jobs plus `span`), except in the
verify test, which runs the real harness on a sample. Choosing the backend (`make_pool`,
`parse_cluster`) is tested without Ray.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kernelwright.cli.common import load_problem
from kernelwright.core.errors import UsageError
from kernelwright.core.jobs import CandidateRef, VerifyJob
from kernelwright.core.measure import DeviceKind, Verdict
from kernelwright.core.protocol import ErrorCode
from kernelwright.engine import client
from kernelwright.engine.backends import Backend, make_pool, parse_cluster
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import WorkerPool
from kernelwright.engine.ray_backend import RayPool, RaySettings, import_ray, ray_installed
from kernelwright.engine.ray_host import WorkerHost

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

DATA = Path(__file__).resolve().parents[2] / "data"
ROOT = Path(__file__).resolve().parents[3]
FAULTS = DATA / "faults"

needs_ray = pytest.mark.skipif(
    not ray_installed(), reason="ray is not installed here: pip install 'kernelwright[ray]' to run these"
)


def handler_config(tmp_path: Path) -> WorkerConfig:
    paths = [str(DATA / "ray"), str(FAULTS), os.environ.get("PYTHONPATH", "")]
    return WorkerConfig(
        handler="ray_handler:handle",
        extra_env={
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "KW_FAULT_MARKER": str(tmp_path / "caches" / "candidates" / "started"),
        },
        cpu_memory_cap_bytes=3 * GiB,
        start_timeout_s=120.0,
        cache_dir=tmp_path / "caches",  # the marker goes in the candidates' part: their box writes it
    )


def run(candidate: str) -> dict[str, str]:
    return {"reference": str(FAULTS / "reference.py"), "candidate": str(FAULTS / candidate)}


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str, within: float = 60.0) -> None:
    """Poll a condition until it holds; fail naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); its state says it has exited.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    if not ray_installed():
        pytest.skip("ray is not installed here: pip install 'kernelwright[ray]' to run these")
    ray = import_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="kernelwright-tests")
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
async def ray_pool(ray_session: Any, tmp_path: Path) -> AsyncIterator[RayPool]:
    settings = RaySettings(workers=1, standby=False)
    async with RayPool("cpu", config=handler_config(tmp_path), settings=settings) as pool:
        yield pool


# -- choosing a backend (no Ray needed) ------------------------------------------------------------


def test_cluster_names_are_parsed_and_bad_ones_say_what_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert parse_cluster("local").backend is Backend.LOCAL
    assert parse_cluster("auto").backend is Backend.LOCAL  # Ray only when a cluster is named
    assert parse_cluster("ray").backend is Backend.RAY and parse_cluster("ray").address is None
    assert parse_cluster("ray://head:10001").address == "ray://head:10001"
    with pytest.raises(UsageError, match=r"ray://HOST:PORT"):
        parse_cluster("kubernetes")
    with pytest.raises(UsageError, match="unknown cluster"):
        parse_cluster("ray://no-port")


def test_auto_picks_ray_when_a_cluster_address_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    expected = Backend.RAY if ray_installed() else Backend.LOCAL
    assert parse_cluster("auto").backend is expected


def test_make_pool_gives_the_local_pool_or_the_ray_pool() -> None:
    assert isinstance(make_pool("local", "cpu"), WorkerPool)
    pool = make_pool("ray://head:10001", "cpu")
    assert isinstance(pool, RayPool) and pool.settings.address == "ray://head:10001"


async def test_without_ray_the_message_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def no_ray(name: str, package: str | None = None) -> Any:
        if name == "ray":
            raise ModuleNotFoundError("No module named 'ray'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_ray)
    with pytest.raises(UsageError, match=r"pip install 'kernelwright\[ray\]'"):
        await RayPool("cpu").start()


async def test_the_actor_class_is_a_plain_host_that_runs_without_ray(tmp_path: Path) -> None:
    # A driver's working directory that this host lacks must not stop its workers from starting.
    config = dataclasses.replace(handler_config(tmp_path), cwd=tmp_path / "only-on-the-driver")
    host = WorkerHost(DeviceKind.CPU, config, standby=False, own_python=True)
    try:
        info = await host.ready()
        assert info.device == "cpu" and info.physical is None and info.actor_pid == os.getpid()
        reply = await host.run("echo", [1, "two"], 30.0, False)
        assert reply.error is None and reply.result == [1, "two"] and reply.hello is not None
        assert await host.pids() == [reply.worker_pid]
        failed = await host.run("launch_rockets", {}, 30.0, False)
        assert failed.error is not None and failed.error.code is ErrorCode.BAD_REQUEST
    finally:
        await host.close()
    assert await host.pids() == []


# -- jobs through Ray --------------------------------------------------------------------------------


@needs_ray
async def test_a_job_round_trips_through_an_actor(ray_pool: RayPool) -> None:
    payload = {"text": "héllo\nworld", "n": [1, 2.5, None]}
    (device,) = ray_pool.devices
    outcome = await ray_pool.execute("echo", payload, fresh=False)
    assert outcome.result == payload and outcome.device == device
    hello = ray_pool.hello(device)
    assert (
        hello is not None
        and hello.device == "cpu"
        and hello.info
        == {
            "pid": hello.pid,
            "device": "cpu",
            "handler": "fault_handler",
        }
    )
    placement = ray_pool.placement(device)
    assert placement is not None and placement.device == "cpu" and placement.actor_pid != os.getpid()
    # The same worker serves reference jobs; a candidate job gets a fresh one, as on the local pool.
    assert (await ray_pool.execute("echo", 2, fresh=False)).worker_pid == outcome.worker_pid
    assert (await ray_pool.execute("run", run("honest.py"), fresh=True)).worker_pid != outcome.worker_pid
    assert await ray_pool.submit("run", run("honest.py")) == {"numel": 256}


@needs_ray
async def test_a_bad_job_is_the_workers_answer_not_a_ray_error(ray_pool: RayPool) -> None:
    with pytest.raises(JobError) as err:
        await ray_pool.submit("launch_rockets", {})
    assert err.value.code is ErrorCode.BAD_REQUEST and "cpu@" in err.value.device
    with pytest.raises(UsageError, match="no worker for cuda"):
        await ray_pool.submit("echo", 1, device="cuda")


@needs_ray
async def test_a_job_past_its_time_limit_is_killed_and_the_next_job_runs(ray_pool: RayPool) -> None:
    start = time.monotonic()
    with pytest.raises(JobError) as err:
        await ray_pool.submit("run", run("loop_forever.py"), fresh=True, timeout=3.0)
    assert err.value.code is ErrorCode.TIMEOUT and "within 3 s" in err.value.message
    assert time.monotonic() - start < 30
    assert await ray_pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}


@needs_ray
async def test_cancelling_a_job_kills_its_worker(ray_pool: RayPool, tmp_path: Path) -> None:
    (device,) = ray_pool.devices
    handle = ray_pool.submit_cancellable("run", run("loop_forever.py"), fresh=True, timeout=120.0)
    await until((tmp_path / "caches" / "candidates" / "started").exists, "the endless job to start")
    (busy,) = (await ray_pool.worker_pids())[device]
    handle.cancel()
    with pytest.raises(JobError) as err:
        await asyncio.wait_for(handle.result(), 30)
    assert err.value.code is ErrorCode.CANCELLED
    await until(lambda: process_gone(busy), "the cancelled job's worker to die", within=15)
    assert await ray_pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}


@needs_ray
async def test_a_worker_killed_mid_job_fails_that_job_only(ray_pool: RayPool, tmp_path: Path) -> None:
    (device,) = ray_pool.devices
    job = asyncio.ensure_future(ray_pool.submit("run", run("loop_forever.py"), fresh=True, timeout=120.0))
    await until((tmp_path / "caches" / "candidates" / "started").exists, "the endless job to start")
    (busy,) = (await ray_pool.worker_pids())[device]
    os.kill(busy, signal.SIGKILL)
    with pytest.raises(JobError) as err:
        await asyncio.wait_for(job, 30)
    assert err.value.code is ErrorCode.OOM and "SIGKILL" in err.value.message  # how a SIGKILL reads
    assert await ray_pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}


@needs_ray
@pytest.mark.slow
async def test_an_actor_killed_mid_job_is_restarted_or_replaced(ray_pool: RayPool, tmp_path: Path) -> None:
    ray = import_ray()
    (device,) = ray_pool.devices
    marker = tmp_path / "caches" / "candidates" / "started"

    async def kill_actor_mid_job(*, restart: bool) -> JobError:
        marker.unlink(missing_ok=True)
        job = asyncio.ensure_future(ray_pool.submit("run", run("loop_forever.py"), fresh=True, timeout=120.0))
        await until(marker.exists, "the endless job to start")
        (busy,) = (await ray_pool.worker_pids())[device]
        ray.kill(ray_pool.actor(device), no_restart=not restart)
        with pytest.raises(JobError) as err:
            await asyncio.wait_for(job, 60)
        # The worker dies with its actor (it asked for SIGKILL on its parent's death).
        await until(lambda: process_gone(busy), "the dead actor's worker to die", within=15)
        return err.value

    first_actor = ray_pool.actor(device)
    err = await kill_actor_mid_job(restart=True)
    assert err.code is ErrorCode.CRASH and "Ray actor" in err.message
    assert await ray_pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}
    # Ray restarts it (max_restarts) and the backend waits for that; on a machine too busy for the
    # restart to finish within RESTART_WAIT_S, a new actor replaces it. Either way the next job runs,
    # and no actor is left behind.
    if ray_pool.actor(device) is not first_actor:
        with pytest.raises(ray.exceptions.RayActorError):  # the one replaced was ended, not left running
            await asyncio.to_thread(ray.get, first_actor.ready.remote(), timeout=30)

    err = await kill_actor_mid_job(restart=False)
    assert err.code is ErrorCode.CRASH
    assert await ray_pool.submit("run", run("honest.py"), fresh=True) == {"numel": 256}
    assert ray_pool.actor(device) is not first_actor  # gone for good: the backend put a new one in


@needs_ray
async def test_jobs_spread_over_actors_and_each_actor_runs_one_at_a_time(
    ray_session: Any, tmp_path: Path
) -> None:
    settings = RaySettings(workers=2, standby=False)
    async with RayPool("cpu", config=handler_config(tmp_path), settings=settings) as pool:
        assert len(pool.devices) == 2
        await asyncio.gather(*(pool.submit("echo", 0, fresh=False, device=d) for d in pool.devices))  # warm
        seconds = 1.5
        outcomes = await asyncio.gather(
            *(pool.execute("span", {"seconds": seconds}, fresh=False) for _ in range(4))
        )
    by_device: dict[object, list[tuple[float, float]]] = {}
    for outcome in outcomes:
        span = cast(dict[str, float], outcome.result)
        by_device.setdefault(outcome.device, []).append((span["start"], span["end"]))
    assert len(by_device) == 2 and all(len(spans) == 2 for spans in by_device.values())
    for spans in by_device.values():
        (_, first_end), (second_start, _) = sorted(spans)
        assert second_start >= first_end, "an actor ran two jobs at once"
    firsts = [min(spans) for spans in by_device.values()]
    assert max(s for s, _ in firsts) < min(e for _, e in firsts), "the two actors did not run together"


@needs_ray
@pytest.mark.slow
async def test_a_verdict_through_ray_is_the_local_pools_verdict(ray_session: Any) -> None:
    reference = load_problem(str(ROOT / "samples" / "pytorch" / "bias_gelu_function.py"))
    sources = {
        "passes": "import torch\n\ndef bias_gelu(x, bias):\n    return torch.nn.functional.gelu(x + bias)\n",
        "fails": "import torch\n\ndef bias_gelu(x, bias):\n    return torch.relu(x + bias)\n",
    }
    jobs = {
        name: VerifyJob(reference, CandidateRef(reference.path, source), device="cpu", trials=2)
        for name, source in sources.items()
    }
    config = WorkerConfig(cpu_memory_cap_bytes=3 * GiB)

    async def verdicts(pool: Any) -> dict[str, Verdict]:
        # engine.client is typed with WorkerPool; the Ray pool has the same API (backends.EnginePool).
        return {name: await client.verify(cast(WorkerPool, pool), job) for name, job in jobs.items()}

    async with WorkerPool("cpu", config=config, standby=False) as local:
        expected = await verdicts(local)
    async with RayPool("cpu", config=config, settings=RaySettings(workers=1, standby=False)) as ray_pool:
        got = await verdicts(ray_pool)
    assert expected["passes"].passed and not expected["fails"].passed
    for name in jobs:
        a, b = expected[name], got[name]
        # The same checks on the same device; the numbers differ (the judge draws its trials' seeds at
        # random for each job, so that no candidate can have their answers ready).
        same = ("passed", "check", "flags", "trials", "line", "notes", "device")
        assert {f: getattr(a, f) for f in same} == {f: getattr(b, f) for f in same}, name
        assert set(a.details) == set(b.details) and a.message.split(":")[0] == b.message.split(":")[0]


@pytest.mark.gpu
@needs_ray
async def test_every_gpu_gets_an_actor_and_its_own_device(ray_session: Any, tmp_path: Path) -> None:
    """On a GPU machine: one actor per GPU, each pinned to a different physical GPU, each answering."""
    # A quarter CPU each: the test session's Ray has 2 CPUs, and a GPU box may have 8 GPUs.
    settings = RaySettings(cpus_per_worker=0.25)
    async with RayPool("cuda", config=handler_config(tmp_path), settings=settings) as pool:
        placements = [pool.placement(d) for d in pool.devices]
        assert all(p is not None and p.device == "cuda:0" for p in placements)
        assert len({p.physical for p in placements if p is not None}) == len(pool.devices)
        results = await asyncio.gather(*(pool.submit("echo", d.label, device=d) for d in pool.devices))
        assert results == [d.label for d in pool.devices]


@pytest.mark.gpu
@needs_ray
@pytest.mark.slow
async def test_a_triton_candidate_is_verified_and_timed_on_a_gpu_through_ray(ray_session: Any) -> None:
    reference = load_problem(str(ROOT / "samples" / "triton" / "vector_add.py"))
    source = reference.source.replace("BLOCK=16, num_warps=4)", "BLOCK=1024, num_warps=4)")
    assert source != reference.source
    job = VerifyJob(reference, CandidateRef(reference.path, source), device="cuda", time_candidate=True)
    settings = RaySettings(workers=1, cpus_per_worker=0.25)
    async with RayPool("cuda", settings=settings) as pool:
        verdict = await client.verify(cast(WorkerPool, pool), job)
    assert verdict.passed, verdict.message
    assert verdict.measurement is not None and verdict.reference_measurement is not None
    # BLOCK=16 is the sample's deliberately slow launch: the 1024 block is much faster on any GPU.
    assert verdict.measurement.timing.median_us < verdict.reference_measurement.timing.median_us
