"""`kernelwright calibrate [--device]`: measure each GPU's copy bandwidth and matmul peaks, and store them.

The figures go to `~/.cache/kernelwright/calibration-<device-name>.json` (see engine.calibrations), from
where every later bench and verify job on that device model takes its roofline peaks instead of the
datasheet table. Exit codes: 0 stored, 1 the measurement failed, 2 usage error (no GPU here).
"""

from __future__ import annotations

import argparse

from kernelwright.cli.common import add_device_argument, key_values, report_stopped, with_progress
from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import CalibrateJob, check_device
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.core.measure import BenchFailure, Calibration
from kernelwright.engine import client
from kernelwright.engine.calibrations import save_calibration
from kernelwright.engine.devices import resolve_devices
from kernelwright.engine.pool import SyncWorkerPool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_argument(parser)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per device before giving up")


def run(args: argparse.Namespace, out: Output) -> int:
    try:
        wanted = check_device(args.device)
        devices = [d for d in resolve_devices(wanted) if not d.is_cpu]
    except KernelwrightError as exc:
        out.error(str(exc), code="usage")
        return EXIT_USAGE
    if not devices:
        out.error(
            "calibrate measures a GPU's copy bandwidth and matmul peaks, and no GPU is visible here "
            "(nvidia-smi finds none, or CUDA_VISIBLE_DEVICES hides them); run it on the GPU machine",
            code="no_gpu",
        )
        return EXIT_USAGE
    done: list[JsonValue] = []
    failed = False
    try:
        with SyncWorkerPool([d.label for d in devices]) as sync:
            for device in devices:
                work = client.calibrate(sync.pool, CalibrateJob(device=device.label), timeout=args.timeout)
                result = sync.run(with_progress(out, f"calibrate {device.label}", work))
                if isinstance(result, BenchFailure):
                    failed = True
                    done.append({"device": device.label, "failure": to_json(result)})
                    if not out.json_mode:
                        out.error(f"{device.label}: calibration failed ({result.stage}): {result.message}")
                    continue
                path = save_calibration(result)
                done.append({"device": device.label, "calibration": to_json(result), "path": str(path)})
                _print(out, device.label, result, str(path))
    except (KernelwrightError, KeyboardInterrupt) as exc:
        return report_stopped(out, exc)
    if out.json_mode:
        out.document({"calibrations": done})
    return EXIT_FAILED if failed else EXIT_OK


def _print(out: Output, label: str, cal: Calibration, path: str) -> None:
    rows = [
        ["device", f"{label}: {cal.device_name}"],
        ["copy bandwidth", f"{cal.bandwidth_bytes_per_s / 1e9:.0f} GB/s (bytes read + written)"],
    ]
    rows += [
        [f"matmul {dtype}", f"{flops / 1e12:.1f} TFLOP/s"]
        for dtype, flops in sorted(cal.matmul_flops_per_s.items())
    ]
    rows.append(["stored in", path])
    key_values(out, rows)
