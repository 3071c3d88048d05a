"""FLOPs of sites torch's flop counter cannot see into (Triton kernels) come from their reference=."""

from __future__ import annotations

import types

import torch
from kernelwright.core.site import FunctionSpec, SiteKind
from kernelwright.harness.bench import _flops
from kernelwright.harness.problem import Problem


def _problem(reference: str | None, module: types.ModuleType) -> Problem:
    return Problem(
        symbol="opaque",
        spec=FunctionSpec(inputs="make", reference=reference),
        kind=SiteKind.TORCH_FUNCTION,
        path="site.py",
        module=module,
        device=torch.device("cpu"),
        draw=lambda seed: (torch.ones(8, 8), torch.ones(8, 8)),
        # Stands in for a Triton launch: work the flop counter does not count.
        target=lambda a, b: a + b,
    )


def test_an_opaque_site_is_counted_on_its_reference() -> None:
    module = types.ModuleType("site")
    module.matmul_reference = lambda a, b: a @ b  # type: ignore[attr-defined]
    args = (torch.ones(8, 8), torch.ones(8, 8))
    counted = _flops(_problem("matmul_reference", module), args, None)
    assert counted is not None and counted.total == 2 * 8 * 8 * 8 and counted.conv == 0
    # Without reference= there is nothing to count: a memory-only roofline, as before.
    assert _flops(_problem(None, module), args, None) is None


def test_the_reference_may_live_in_the_reference_file_only() -> None:
    candidate_module = types.ModuleType("candidate")  # a candidate that does not define the oracle
    reference_module = types.ModuleType("site")
    reference_module.matmul_reference = lambda a, b: a @ b  # type: ignore[attr-defined]
    args = (torch.ones(4, 4), torch.ones(4, 4))
    got = _flops(_problem("matmul_reference", candidate_module), args, _problem(None, reference_module))
    assert got is not None and got.total == 2 * 4 * 4 * 4
