from __future__ import annotations

from pathlib import Path

from kernelwright.core.measure import Calibration
from kernelwright.engine.calibrations import calibration_path, load_calibration, save_calibration


def test_a_calibration_is_stored_per_device_model_and_read_back(tmp_path: Path) -> None:
    cal = Calibration("NVIDIA H100 80GB HBM3", 2.9e12, {"bfloat16": 7.1e14, "float32": 5.0e13}, 1.7e9)
    path = save_calibration(cal, tmp_path)
    assert path == tmp_path / "calibration-nvidia-h100-80gb-hbm3.json"
    assert load_calibration("NVIDIA H100 80GB HBM3", tmp_path) == cal
    assert load_calibration("NVIDIA A100-SXM4-40GB", tmp_path) is None


def test_a_damaged_file_reads_as_no_calibration(tmp_path: Path) -> None:
    path = calibration_path("NVIDIA L4", tmp_path)
    path.write_text("{not json")
    assert load_calibration("NVIDIA L4", tmp_path) is None
