"""The static analysis finds every sample's site and spec, and no findings: the samples break no rule.

A failure here means either a sample broke a rule (fix the sample) or a rule fires on idiomatic code
(fix the rule); the samples are the house's example of code that should pass clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.core.site import CudaSpec, FunctionSpec, ModuleSpec, SiteKind
from support.sample_catalog import SAMPLES, SampleFolder, sample_files

analysis = pytest.importorskip("kernelwright.analysis")

ALL_SAMPLES = [p for f in SampleFolder for suffix in (".py", ".cu") for p in sample_files(f, suffix)]


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_has_a_spec_and_no_findings(path: Path) -> None:
    result = analysis.analyze(path.read_text(), str(path))
    assert not result.findings, [
        f"{f.rule} {f.name} line {f.range.start.line}: {f.message}" for f in result.findings
    ]
    specs = [s.spec for s in result.sites if s.spec is not None]
    assert specs, f"no site with a bench spec in {path.name}: {[s.name for s in result.sites]}"
    kinds = {s.kind for s in result.sites}
    if path.suffix == ".cu":
        assert all(isinstance(s, CudaSpec) for s in specs)
    elif "class Model(nn.Module)" in path.read_text():
        assert any(isinstance(s, ModuleSpec) for s in specs)
    else:
        assert any(isinstance(s, FunctionSpec) for s in specs)
    if path.parent.name == "triton":
        assert {SiteKind.TRITON_KERNEL, SiteKind.TRITON_LAUNCHER} <= kinds
    if "load_inline" in path.read_text():
        assert SiteKind.INLINE_CUDA_KERNEL in kinds
