"""The L2 flush between timed calls first releases persisting L2 through the CUDA driver itself
(docs/PITFALLS.md 5): a persisting access-policy window keeps its lines through ordinary writes, so a
flush alone would leave such data cached. Where the release cannot be made, the measurement says so and
why; where the timed code had set L2 aside, it says that the flush took it back. Runs on the CPU: the
driver is a fake (or a library without the entry points), the buffer a CPU one.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from kernelwright.core.measure import TimingMethod
from kernelwright.harness import timing
from kernelwright.harness.device import Target, resolve
from kernelwright.harness.timing import L2Flusher, l2_note, persisting_l2, summarize

pytestmark = pytest.mark.processes  # resolve() asks the system about its CPU (support/tiers.py)


def small_target() -> Target:
    cpu = resolve("cpu")
    return dataclasses.replace(cpu, info=dataclasses.replace(cpu.info, l2_bytes=64))


class Driver:
    """A fake of the driver's persisting-L2 release that records, at each release, what the flush buffer
    held; `results` are its CUresults in turn (the last repeats), `set_aside` the L2 set aside each time."""

    def __init__(self, results: list[int], set_aside: int = 0, limit_results: tuple[int, ...] = (0,)) -> None:
        self.results = results
        self.set_aside = set_aside
        self.limit_results = limit_results
        self.calls = 0
        self.flusher: L2Flusher | None = None
        self.buffer_at_reset: list[int] = []

    def release(self) -> tuple[int, int, int]:
        assert self.flusher is not None
        self.buffer_at_reset.append(int(self.flusher.buffer[0]))
        self.calls += 1
        rc = self.results[min(self.calls, len(self.results)) - 1]
        limit_rc = self.limit_results[min(self.calls, len(self.limit_results)) - 1]
        return rc, limit_rc, self.set_aside if rc == 0 else 0


def flusher_with(monkeypatch: pytest.MonkeyPatch, driver: Driver) -> L2Flusher:
    monkeypatch.setattr(timing, "persisting_l2", lambda: driver)
    flusher = L2Flusher(small_target())
    flusher.buffer.zero_()
    driver.flusher = flusher
    return flusher


def test_every_flush_resets_persisting_lines_before_it_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = Driver([0])
    flusher = flusher_with(monkeypatch, driver)
    for _ in range(3):
        flusher.flush()
    assert driver.calls == 3
    # The first reset came before any write of the flush buffer.
    assert driver.buffer_at_reset[0] == 0 and int(flusher.buffer[0]) == 0x5A
    assert flusher.not_reset == ""
    assert flusher.buffer.numel() == 2 * 64


def test_a_reset_the_driver_refuses_is_named_and_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = Driver([0, 801])  # CUDA_ERROR_NOT_SUPPORTED on the second call
    flusher = flusher_with(monkeypatch, driver)
    for _ in range(4):
        flusher.flush()
    assert driver.calls == 2
    assert "CUresult 801" in flusher.not_reset
    assert int(flusher.buffer[0]) == 0x5A  # the flush itself still happens


def test_a_set_aside_the_driver_will_not_give_back_is_named_and_lines_still_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver = Driver([0], set_aside=2**20, limit_results=(999,))
    flusher = flusher_with(monkeypatch, driver)
    for _ in range(3):
        flusher.flush()
    assert driver.calls == 3  # the line reset goes on
    assert "CUresult 999" in flusher.not_reset and "still reset" in flusher.not_reset


def test_l2_the_timed_code_set_aside_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    flusher = flusher_with(monkeypatch, Driver([0], set_aside=30 * 2**20))
    flusher.flush()
    assert flusher.set_aside_removed == 30 * 2**20 and flusher.not_reset == ""
    stats = summarize([5.0] * 10, TimingMethod.CUDA_EVENTS, l2_flushed=True, l2_set_aside_removed=30 * 2**20)
    note = l2_note(stats)
    assert note is not None and "30.0 MiB" in note and "gives it back" in note


@pytest.mark.parametrize(
    ("libraries", "expected"),
    [
        (("libkernelwright-no-such-driver.so.1",), "could not be opened"),
        (("libc.so.6",), "has no persisting-L2 controls"),  # a library, but not the driver
    ],
    ids=["no driver library", "no entry point"],
)
def test_without_the_driver_s_reset_the_reason_is_kept(
    monkeypatch: pytest.MonkeyPatch, libraries: tuple[str, ...], expected: str
) -> None:
    monkeypatch.setattr(timing, "_DRIVER_LIBRARIES", libraries)
    reason = persisting_l2()
    assert isinstance(reason, str) and expected in reason, reason
    flusher = L2Flusher(small_target())
    flusher.flush()
    assert expected in flusher.not_reset


def test_the_measurement_says_when_the_reset_was_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "the CUDA driver library could not be opened: (test)"
    flushed = summarize([5.0] * 10, TimingMethod.CUDA_EVENTS, l2_flushed=True, l2_not_reset=reason)
    note = l2_note(flushed)
    assert note is not None and reason in note and "persisting" in note
    assert l2_note(summarize([5.0] * 10, TimingMethod.CUDA_EVENTS, l2_flushed=True)) is None
    # A CPU timing flushes nothing: no note about a release it never needed.
    assert l2_note(summarize([5.0] * 10, TimingMethod.CPU_PERF_COUNTER, l2_not_reset=reason)) is None


def test_the_timing_loop_carries_its_flusher_s_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "persisting_l2", lambda: "no driver here (test)")
    monkeypatch.setattr(timing.clock, "CudaEvent", _NoEvent)
    monkeypatch.setattr(timing.clock, "cuda_sleep", lambda cycles: None)
    monkeypatch.setattr(timing.clock, "cuda_synchronize", lambda device=None: None)
    stats = timing.time_cuda(
        lambda a: None, [(torch.zeros(2),)], small_target(), timing.TimingPlan(repeats=3)
    )
    assert stats.l2_not_reset == "no driver here (test)"
    assert l2_note(stats) is not None


class _NoEvent:
    def __init__(self, enable_timing: bool = False) -> None:
        pass

    def record(self) -> None:
        pass

    def elapsed_time(self, other: _NoEvent) -> float:
        return 0.005
