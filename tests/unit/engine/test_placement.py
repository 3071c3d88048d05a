"""A judged CPU job's two sides on one core, the least busy one, and the next standby kept off it
(engine.placement): the choice, the pinning of whole process trees, and a real verify job in a pool."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.core.jobs import BenchOptions, CandidateRef, Origin, ProblemRef, VerifyJob
from kernelwright.core.site import ModuleSpec, SiteKind
from kernelwright.engine import client
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.placement import least_busy, pin
from kernelwright.engine.pool import WorkerPool
from kernelwright.engine.process import descendants

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

ALL = os.sched_getaffinity(0)
needs_two_cpus = pytest.mark.skipif(len(ALL) < 2, reason="one CPU: nothing to choose between")
REFERENCE = Path(__file__).resolve().parents[3] / "samples" / "confinement" / "reference.py"


def test_the_least_busy_core_is_chosen_the_lowest_among_equals() -> None:
    before = {0: (100, 1000), 1: (100, 1000), 2: (100, 1000)}
    after = {0: (190, 1100), 1: (110, 1100), 2: (110, 1100)}
    assert least_busy({0, 1, 2}, before, after) == 1
    assert least_busy({0, 2}, before, after) == 2  # only the allowed ones
    assert least_busy({0, 1}, {}, {}) == 0  # no /proc/stat: the lowest


@needs_two_cpus
def test_pin_reaches_every_thread_of_the_tree_and_gives_it_back() -> None:
    code = (
        "import subprocess, sys, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "up\n"
        tree = [parent.pid, *descendants([parent.pid])]
        assert len(tree) == 2
        tids = [int(t) for pid in tree for t in os.listdir(f"/proc/{pid}/task")]
        assert pin(parent.pid, {1}) == len(tids) >= 3
        assert all(os.sched_getaffinity(t) == {1} for t in tids)
        pin(parent.pid, ALL)
        assert all(os.sched_getaffinity(t) == ALL for t in tids)
    finally:
        for pid in descendants([parent.pid]):
            os.kill(pid, 9)
        parent.kill()
        parent.wait()


def _job() -> VerifyJob:
    source = REFERENCE.read_text()
    ref = ProblemRef(str(REFERENCE), source, "Model", SiteKind.TORCH_MODULE, ModuleSpec())
    honest = CandidateRef(
        str(REFERENCE), source.replace("class Model(", "class ModelNew("), origin=Origin.BUILTIN
    )
    options = BenchOptions(compile_baseline=False, profile_lines=False)
    return VerifyJob(ref, honest, device="cpu", trials=2, options=options)


@needs_two_cpus
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_a_judged_job_times_on_one_core_while_the_next_standby_starts_on_the_others() -> None:
    config = WorkerConfig(cpu_memory_cap_bytes=4 * GiB, allow_unconfined=True)
    async with WorkerPool(["cpu"], config=config, standby=True) as pool:
        first = await client.verify(pool, _job(), timeout=300)  # the judge starts
        assert first.passed, first.message
        await pool.ready("cpu")
        warm = pool.pids()  # the judge and the standby the next job takes
        assert len(warm) == 2
        old_seen: list[frozenset[int]] = []  # affinities of their processes
        new_seen: list[frozenset[int]] = []  # of the standby that starts during the job
        running = True

        def affinity(pid: int) -> frozenset[int] | None:
            try:
                return frozenset(os.sched_getaffinity(pid))
            except OSError:
                return None

        async def sample() -> None:
            while running:
                old = {p for w in warm for p in (w, *descendants([w]))}
                for pid in descendants([os.getpid()]):
                    a = affinity(pid)
                    if a is not None:
                        (old_seen if pid in old else new_seen).append(a)
                await asyncio.sleep(0.02)

        sampler = asyncio.ensure_future(sample())
        verdict = await client.verify(pool, _job(), timeout=300)
        running = False
        await sampler
        assert verdict.passed, verdict.message
        outcome = pool.recent_outcomes[-1]
        # It did not wait for the standby its own start set going (a torch import: seconds).
        assert outcome.worker_start_s is not None
        assert outcome.quiet_wait_s < 0.5 * outcome.worker_start_s, (
            outcome.quiet_wait_s,
            outcome.worker_start_s,
        )
        cores = {a for a in old_seen if len(a) == 1}
        assert len(cores) == 1, old_seen  # the judge and the candidate: one core for the whole job
        (core,) = next(iter(cores))
        assert new_seen and any(core not in a for a in new_seen)  # the next standby: kept off it
        assert all(a == ALL or core not in a for a in new_seen)  # (ALL: seen after the job ended)
        await pool.ready("cpu")
        for pid in descendants([os.getpid()]):  # afterwards, the whole machine again
            assert affinity(pid) == ALL
