"""Every PyTorch sample runs on the CPU with its own inputs and gives finite outputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from torch import Tensor
from support.sample_catalog import SampleFolder, load_module, python_directives, sample_files

torch = pytest.importorskip("torch")

TORCH_SAMPLES = sample_files(SampleFolder.PYTORCH)


def _outputs(result: object) -> list[Tensor]:
    tensors: list[Tensor] = list(result) if isinstance(result, tuple | list) else [result]  # type: ignore[list-item]
    assert tensors and all(isinstance(t, torch.Tensor) for t in tensors), f"not tensors: {type(result)}"
    return tensors


def test_there_are_module_and_function_samples() -> None:
    texts = [p.read_text() for p in TORCH_SAMPLES]
    assert sum("class Model(nn.Module)" in t for t in texts) >= 3
    assert sum(bool(python_directives(t)) for t in texts) >= 2
    assert any(d.get("init") for t in texts for d in python_directives(t))


@pytest.mark.parametrize("path", TORCH_SAMPLES, ids=lambda p: p.name)
def test_sample_runs_on_cpu(path: Path) -> None:
    torch.manual_seed(0)
    module = load_module(path)
    directives = python_directives(path.read_text())
    with torch.no_grad():
        if hasattr(module, "Model"):
            assert not directives, "a module-convention file needs no directive"
            init = module.get_init_inputs() if hasattr(module, "get_init_inputs") else []
            inputs = module.get_inputs()
            assert isinstance(inputs, list), "KernelBench's get_inputs returns a list"
            assert all(t.device.type == "cpu" for t in inputs if isinstance(t, torch.Tensor))
            result = module.Model(*init)(*inputs)
        else:
            assert len(directives) == 1, "a function-convention sample has exactly one bench directive"
            directive = directives[0]
            cpu_inputs = directive.get("cpu_inputs")
            assert cpu_inputs, "every function-convention sample has cpu_inputs="
            assert callable(getattr(module, directive.get("inputs") or "", None)), "inputs= names no callable"
            target = getattr(module, directive.symbol)
            init = directive.get("init")
            if init is not None:
                target = target(*getattr(module, init)())
            inputs = getattr(module, cpu_inputs)()
            assert isinstance(inputs, tuple), "a bench input factory returns the argument tuple"
            result = target(*inputs)
    for out in _outputs(result):
        assert out.numel() > 0
        assert bool(torch.isfinite(out).all()), f"{path.name} produced non-finite values"
        assert out.dtype != torch.float64, "samples stay in float32 or narrower"
