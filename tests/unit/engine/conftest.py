"""Engine test fixtures: pools on the CPU whose workers serve a stand-in handler or the real harness."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from kernelwright.engine.config import GiB, WorkerConfig
from kernelwright.engine.pool import WorkerPool

FAULTS = Path(__file__).resolve().parents[2] / "data" / "faults"


def fault_config(tmp_path: Path, **overrides: object) -> WorkerConfig:
    """Workers that serve tests/data/faults/fault_handler.py: same worker, protocol and limits."""
    pythonpath = os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH", "")) if p)
    settings: dict[str, object] = {
        "handler": "fault_handler:handle",
        "extra_env": {
            "PYTHONPATH": pythonpath,
            "KW_FAULT_MARKER": str(tmp_path / "caches" / "candidates" / "started"),
        },
        "cpu_memory_cap_bytes": 3 * GiB,
        "start_timeout_s": 120.0,
        # A candidate's box writes only its own places; the candidates' cache folder is one of them.
        "cache_dir": tmp_path / "caches",
    }
    settings.update(overrides)
    return WorkerConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def faults() -> Path:
    return FAULTS


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., WorkerConfig]:
    """`make_config(**overrides)`: a fault-handler WorkerConfig for this test."""
    return lambda **overrides: fault_config(tmp_path, **overrides)


@pytest.fixture
async def fault_pool(tmp_path: Path) -> AsyncIterator[WorkerPool]:
    pool = WorkerPool(["cpu"], config=fault_config(tmp_path), standby=False)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()
