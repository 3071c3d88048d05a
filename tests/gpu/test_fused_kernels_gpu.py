"""The builtin search's fused Triton kernels compiled for a real GPU, at the sizes of samples/suite, for
every launch configuration: each against the torch expression it replaces (the interpreter's check in
tests/unit/optimize/test_fused_kernels.py runs small rows only). Run on the device machine:
`pytest -q -m gpu tests/gpu/test_fused_kernels_gpu.py`."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from kernelwright.optimize.providers.builtin.fused_kernels import (
    REQUIRED_IMPORTS,
    FusedOp,
    LaunchConfig,
    configs,
    source,
    wrapper_name,
)

pytestmark = pytest.mark.gpu

CASES = [(op, config) for op in FusedOp for config in configs(op)]


def _load(tmp_path: Path, op: FusedOp, config: LaunchConfig) -> Callable[..., object]:
    # Triton's jit reads the kernel's source file, so the module must be a file, not an exec'd string.
    path = tmp_path / f"kw_{op.value}_{config.slug().replace('-', '_')}.py"
    path.write_text("\n".join(REQUIRED_IMPORTS) + "\n\n\n" + source(op, config))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn: Callable[..., object] = getattr(module, wrapper_name(op))
    return fn


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].value}-{c[1].slug()}")
def test_fused_kernel_matches_torch_on_cuda(tmp_path: Path, case: tuple[FusedOp, LaunchConfig]) -> None:
    import torch
    import torch.nn.functional as F

    op, config = case
    fn = _load(tmp_path, op, config)
    g = torch.Generator(device="cuda").manual_seed(0)

    def rand(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.randn(*shape, device="cuda", generator=g).to(dtype)

    checks: list[tuple[object, torch.Tensor, float]] = []
    if op is FusedOp.RMS_NORM:
        x, w = rand(4096, 4096, dtype=torch.bfloat16), rand(4096, dtype=torch.bfloat16)
        ref = (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6) * w.float()).bfloat16()
        checks.append((fn(x, w, 1e-6), ref, 2e-2))
    elif op is FusedOp.LAYER_NORM:
        x, w, b = rand(4096, 4096), rand(4096), rand(4096)
        checks.append((fn(x, w, b, 1e-5), F.layer_norm(x, (4096,), w, b, 1e-5), 1e-4))
    elif op is FusedOp.SOFTMAX:
        x = rand(8192, 4096)
        checks.append((fn(x), torch.softmax(x, dim=-1), 1e-5))
    elif op is FusedOp.LOG_SOFTMAX:
        x = rand(8192, 8192) * 4
        checks.append((fn(x), F.log_softmax(x, dim=-1), 1e-4))
    elif op is FusedOp.CROSS_ENTROPY:
        logits = rand(2048, 50257) * 3
        t = torch.randint(0, 50257, (2048,), device="cuda", generator=g)
        checks.append((fn(logits, t), F.cross_entropy(logits, t), 1e-4))
        t[::5] = -100
        checks.append((fn(logits, t), F.cross_entropy(logits, t), 1e-4))
        half = logits[:512].half()
        checks.append((fn(half, t[:512]), F.cross_entropy(half, t[:512]), 1e-2))
    else:
        a, b = rand(4096, 8192, dtype=torch.bfloat16), rand(4096, 8192, dtype=torch.bfloat16)
        if op is FusedOp.SILU_MUL:
            checks.append((fn(a, b), (F.silu(a.float()) * b.float()).bfloat16(), 2e-2))
        else:
            ref = (F.gelu(a.float(), approximate="tanh") * b.float()).bfloat16()
            checks.append((fn(a, b, "tanh"), ref, 2e-2))
    for out, ref, tol in checks:
        assert isinstance(out, torch.Tensor)
        assert out.shape == ref.shape and out.dtype == ref.dtype
        torch.testing.assert_close(out, ref, atol=tol, rtol=tol)
