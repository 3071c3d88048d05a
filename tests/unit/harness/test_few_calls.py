"""A median that rests on fewer than 5 timed calls says so (harness/timing.few_calls)."""

from __future__ import annotations

from kernelwright.core.measure import TimingMethod, TimingStats
from kernelwright.harness.timing import FEW_CALLS, few_calls, not_timed


def stats(repeats: int, median_us: float = 2_300_000.0) -> TimingStats:
    return TimingStats(
        median_us=median_us,
        p10_us=median_us,
        p90_us=median_us,
        mean_us=median_us,
        min_us=median_us,
        max_us=median_us,
        repeats=repeats,
        method=TimingMethod.CPU_PERF_COUNTER,
    )


def test_one_call_is_called_a_sample_with_its_duration_and_the_way_out() -> None:
    note = few_calls(stats(1))
    assert note is not None
    assert note.startswith("the median rests on 1 timed call (about 2.3 s each)")
    assert "one sample, not a distribution" in note and "more repeats" in note
    assert "4 timed calls (about 12 ms each)" in (few_calls(stats(4, 12_000.0)) or "")


def test_enough_calls_or_none_timed_give_no_note() -> None:
    assert few_calls(stats(FEW_CALLS)) is None
    assert few_calls(stats(200)) is None
    assert few_calls(not_timed()) is None
