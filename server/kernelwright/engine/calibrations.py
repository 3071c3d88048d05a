"""Stored calibrations: one JSON file per device model, read back into every bench and verify job.

A calibration belongs to a device model (cuda:0 may be a different card tomorrow), so the file is keyed
by the device's name: `~/.cache/kernelwright/calibration-<device-name>.json`, under $KERNELWRIGHT_CACHE_DIR
or $XDG_CACHE_HOME where set.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import Calibration


def cache_root() -> Path:
    explicit = os.environ.get("KERNELWRIGHT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kernelwright"


def calibration_path(device_name: str, root: Path | None = None) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device_name.lower()).strip("-") or "device"
    return (root or cache_root()) / f"calibration-{slug}.json"


def save_calibration(calibration: Calibration, root: Path | None = None) -> Path:
    path = calibration_path(calibration.device_name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_json(calibration), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def load_calibration(device_name: str, root: Path | None = None) -> Calibration | None:
    """The stored calibration for this device model; None if there is none or it cannot be read."""
    path = calibration_path(device_name, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = from_json(Calibration, data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return calibration if calibration.device_name == device_name else None
