"""The engine on a real GPU (skipped without CUDA): pinned workers, CUDA faults, calibrate, bench."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kernelwright.cli import main
from kernelwright.core.jobs import CandidateRef, ProblemRef, VerifyJob
from kernelwright.core.measure import CheckName, DeviceKind
from kernelwright.core.protocol import ErrorCode
from kernelwright.core.site import ModuleSpec, SiteKind
from kernelwright.engine import client
from kernelwright.engine.devices import resolve_devices
from kernelwright.engine.pool import WorkerPool

pytestmark = pytest.mark.gpu

ROOT = Path(__file__).resolve().parents[3]
FAULTS = ROOT / "tests" / "data" / "faults"
REFERENCE = ProblemRef(
    path=str(FAULTS / "reference.py"),
    source=(FAULTS / "reference.py").read_text(),
    symbol="Model",
    kind=SiteKind.TORCH_MODULE,
    spec=ModuleSpec(),
)


def job(candidate: str, device: str = "cuda") -> VerifyJob:
    path = FAULTS / candidate
    return VerifyJob(REFERENCE, CandidateRef(str(path), path.read_text()), device=device, trials=2)


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    async with WorkerPool("auto", standby=True) as p:
        yield p


async def test_auto_finds_every_gpu_and_pins_one_worker_to_each(pool: WorkerPool) -> None:
    devices = pool.devices
    assert devices and all(d.kind is DeviceKind.CUDA for d in devices)
    for device in devices:
        reply = await client.ping(pool, device)
        # Pinned: the worker sees exactly one GPU, as cuda:0.
        assert reply.device.kind is DeviceKind.CUDA and reply.device.index == 0
        assert len(reply.devices) == 1


@pytest.mark.parametrize("candidate", ["cuda_device_assert.py", "triton_illegal_address.py"])
async def test_a_cuda_fault_retires_the_worker_and_is_reported(pool: WorkerPool, candidate: str) -> None:
    verdict = await client.verify(pool, job(candidate))
    assert not verdict.passed and verdict.check is CheckName.RUN
    assert verdict.worker_error is ErrorCode.CUDA_FAULT, verdict
    honest = await client.verify(pool, job("honest.py"))
    assert honest.passed, honest.message


async def test_bench_on_the_gpu_uses_device_events(pool: WorkerPool) -> None:
    from kernelwright.core.jobs import BenchJob
    from kernelwright.core.measure import Measurement, TimingMethod

    result = await client.bench(pool, BenchJob(REFERENCE, device="cuda"))
    assert isinstance(result, Measurement), result
    assert result.timing.method is TimingMethod.CUDA_EVENTS and result.device.kind is DeviceKind.CUDA


def test_calibrate_stores_a_file_per_device(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERNELWRIGHT_CACHE_DIR", str(tmp_path))
    assert main(["calibrate", "--device", "cuda:0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (entry,) = doc["calibrations"]
    assert Path(entry["path"]).is_file() and Path(entry["path"]).parent == tmp_path
    assert entry["calibration"]["bandwidth_bytes_per_s"] > 1e11


def test_the_cli_benches_and_verifies_on_the_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    sample = ROOT / "samples" / "pytorch" / "softmax_unfused.py"
    assert main(["bench", str(sample), "--device", "cuda", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measurement"]["timing"]["method"] == "cuda_events"
    adversarial = ROOT / "samples" / "adversarial"
    ref, honest = adversarial / "gelu_reference.py", adversarial / "honest_gelu.py"
    assert main(["verify", str(ref), str(honest), "--device", "cuda"]) == 0
    assert resolve_devices("cuda")[0].label == "cuda:0"
