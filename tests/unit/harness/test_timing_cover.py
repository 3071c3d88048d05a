"""The CUDA timing loop drops a call the host finished enqueueing only after the GPU had drained the
spin cover and the L2 flush (the GPU may have waited inside the events for a launch), and lengthens the
cover. Runs on the CPU: the GPU is a clock the fakes below advance (the spin kernel by its cycles, the
timed call by its device time), the host a clock the timed call advances by its enqueue time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import torch
from kernelwright.harness import clock, timing
from kernelwright.harness.device import resolve
from kernelwright.harness.timing import TimingPlan, time_cuda

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CYCLES_PER_US = 1000.0
KERNEL_US = 7.0


class Clocks:
    def __init__(self) -> None:
        self.gpu_us = 0.0
        self.host_s = 0.0

    def event(self) -> type:
        clocks = self

        class FakeEvent:
            def __init__(self, enable_timing: bool = False) -> None:
                self.at_us = 0.0

            def record(self) -> None:
                self.at_us = clocks.gpu_us

            def elapsed_time(self, other: FakeEvent) -> float:
                return (other.at_us - self.at_us) / 1000.0  # ms, as torch.cuda.Event answers

        return FakeEvent

    def sleep(self, cycles: int) -> None:
        self.gpu_us += cycles / CYCLES_PER_US

    def perf_counter(self) -> float:
        return self.host_s


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    c = Clocks()
    monkeypatch.setattr(clock, "CudaEvent", c.event())
    monkeypatch.setattr(clock, "cuda_sleep", c.sleep)
    monkeypatch.setattr(clock, "cuda_synchronize", lambda device=None: None)
    monkeypatch.setattr(clock, "perf_counter", c.perf_counter)
    monkeypatch.setattr(timing, "persisting_l2", lambda: "no driver in this test")
    return c


def timed_call(clocks: Clocks, enqueue_us: Callable[[int], float]) -> Callable[[tuple[Any, ...]], None]:
    calls = 0

    def fn(args: tuple[Any, ...]) -> None:
        nonlocal calls
        clocks.host_s += enqueue_us(calls) / 1e6
        clocks.gpu_us += KERNEL_US
        calls += 1

    return fn


def run(fn: Callable[[tuple[Any, ...]], None]) -> timing.TimingStats:
    cpu = resolve("cpu")
    target = dataclasses.replace(cpu, info=dataclasses.replace(cpu.info, l2_bytes=1024))
    return time_cuda(fn, [(torch.zeros(4),)], target, TimingPlan(warmup=3, repeats=20))


def test_a_host_that_keeps_ahead_loses_no_call(clocks: Clocks) -> None:
    stats = run(timed_call(clocks, lambda n: 20.0))
    assert stats.host_late == 0
    assert stats.repeats == 20 and stats.median_us == pytest.approx(KERNEL_US)


def test_a_call_the_host_enqueued_late_is_dropped_and_the_cover_grows(clocks: Clocks) -> None:
    # Warm-up enqueues in 10 µs (cover 50 + 3 x 10 = 80 µs); then one call takes the host 300 µs.
    stats = run(timed_call(clocks, lambda n: 300.0 if n == 4 else 10.0))
    assert stats.host_late == 1
    assert stats.repeats == 20  # the dropped call was replaced
    assert stats.max_us == pytest.approx(KERNEL_US)


def test_at_the_ceiling_samples_are_kept_rather_than_lost(clocks: Clocks) -> None:
    slow = timing.COVER_CEILING_US * 2
    stats = run(timed_call(clocks, lambda n: 10.0 if n < 3 else slow))
    assert stats.host_late == 1  # grown once to the ceiling, then every call kept
    assert stats.repeats == 20
