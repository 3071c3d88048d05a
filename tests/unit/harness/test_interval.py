"""The speedup interval of an interleaved run: never narrower than the systematic floor, which on a CPU
is wider for calls that are mostly torch's dispatch."""

from __future__ import annotations

import math

from kernelwright.harness.interleave import (
    SHORT_CALL_FLOOR,
    SHORT_CALL_S,
    SYSTEMATIC_FLOOR,
    speedup_interval,
    systematic_floor,
)


def test_short_cpu_calls_get_the_wider_floor_and_gpu_calls_never_do() -> None:
    assert systematic_floor("cpu", SHORT_CALL_S / 4) == SHORT_CALL_FLOOR > SYSTEMATIC_FLOOR["cpu"]
    assert systematic_floor("cpu", SHORT_CALL_S * 4) == SYSTEMATIC_FLOOR["cpu"]
    assert systematic_floor("cuda", SHORT_CALL_S / 4) == SYSTEMATIC_FLOOR["cuda"]


def test_identical_blocks_still_give_an_interval_as_wide_as_the_floor() -> None:
    estimate = speedup_interval([1.0] * 10, calls_per_block=32, floor=SHORT_CALL_FLOOR)
    assert math.isclose(estimate.low, math.exp(-SHORT_CALL_FLOOR))
    assert math.isclose(estimate.high, math.exp(SHORT_CALL_FLOOR))
    # The measured 1.32x between two processes running the same short call lies inside it.
    assert estimate.low <= 1 / 1.32 and estimate.high >= 1.32


def test_noisy_blocks_widen_it_beyond_the_floor() -> None:
    noisy = speedup_interval([0.5, 2.0, 0.6, 1.8, 1.0, 1.1], calls_per_block=32, floor=0.02)
    assert math.log(noisy.high / noisy.ratio) > 0.02
