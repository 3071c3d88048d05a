"""A regression is judged only against a measurement from the same device."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kernelwright.lsp.results import Results, SiteKey, comparable, regression
from support.measurements import CPU, VERSIONS, measurement

H100 = replace(CPU, name="NVIDIA H100 80GB HBM3")


def test_comparable_picks_the_first_earlier_measurement_of_the_same_device() -> None:
    cpu_old, gpu_old, gpu_new = measurement(), measurement(device=H100), measurement(device=H100)
    assert comparable(gpu_new, cpu_old, gpu_old) is gpu_old
    assert comparable(gpu_new, None, cpu_old) is None


def test_a_measurement_on_another_card_is_no_baseline() -> None:
    results, key = Results(), SiteKey(Path("/w/k.py"), "Model")
    results.record_measurement(key, measurement(device=H100, median_us=100), "h", "src")
    same = results.record_measurement(key, measurement(device=H100, median_us=120), "h", "src")
    assert same.previous is not None and same.previous.timing.median_us == 100
    other = results.record_measurement(key, measurement(median_us=5000), "h", "src")  # a CPU run
    assert other.previous is None


def test_a_measurement_from_before_a_torch_upgrade_is_no_baseline() -> None:
    upgraded = replace(VERSIONS, torch="9.9.9")
    results, key = Results(), SiteKey(Path("/w/k.py"), "Model")
    results.record_measurement(key, measurement(device=H100, median_us=100), "h", "src")
    after = results.record_measurement(
        key, measurement(device=H100, median_us=200, versions=upgraded), "h", "src"
    )
    assert after.previous is None
    # Nor is a slower time after the upgrade a regression of the code.
    before = measurement(device=H100, median_us=100)
    assert regression(before, measurement(device=H100, median_us=200, versions=upgraded)) is None
    assert regression(before, measurement(device=H100, median_us=200)) is not None
