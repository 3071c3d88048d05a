"""Every problem in samples/suite/ is a KernelBench module-convention file with CPU sizes that the
analysis recognises, and its CPU-sized forward gives finite outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.core.site import ModuleSpec, SiteKind
from support.sample_catalog import SAMPLES, load_module

torch = pytest.importorskip("torch")
analysis = pytest.importorskip("kernelwright.analysis")

SUITE = SAMPLES / "suite"
PROBLEMS = sorted(p for p in SUITE.glob("*.py") if not p.name.startswith("_"))


def test_there_are_at_least_twenty_problems() -> None:
    assert len(PROBLEMS) >= 20


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_analysis_finds_model_with_cpu_factories(path: Path) -> None:
    result = analysis.analyze(path.read_text(), str(path))
    modules = [s for s in result.sites if s.kind is SiteKind.TORCH_MODULE]
    assert [s.name for s in modules] == ["Model"], [s.name for s in result.sites]
    spec = modules[0].spec
    assert isinstance(spec, ModuleSpec)
    assert spec.cpu_inputs == "get_cpu_inputs"
    assert spec.cpu_init == "get_cpu_init_inputs"


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_cpu_sized_forward_is_finite(path: Path) -> None:
    torch.manual_seed(0)
    module = load_module(path)
    init = module.get_cpu_init_inputs()
    inputs = module.get_cpu_inputs()
    assert isinstance(init, list) and isinstance(inputs, list), "KernelBench's factories return lists"
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    assert all(t.dtype in (torch.float32, torch.int64) for t in tensors), "CPU inputs stay float32"
    with torch.no_grad():
        result = module.Model(*init)(*inputs)
    outputs = list(result) if isinstance(result, tuple | list) else [result]
    assert outputs and all(isinstance(t, torch.Tensor) for t in outputs)
    for out in outputs:
        assert out.numel() > 0
        assert bool(torch.isfinite(out).all()), f"{path.name} produced non-finite values"
