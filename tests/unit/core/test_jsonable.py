from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from kernelwright.core.jsonable import from_json, from_untrusted_json, renamed_from, to_json
from kernelwright.core.site import (
    AnalysisResult,
    CudaArgument,
    CudaParam,
    CudaParamRole,
    CudaSpec,
    Finding,
    FunctionSpec,
    Language,
    ModuleSpec,
    Range,
    Severity,
    Site,
    SiteKind,
)


def _result() -> AnalysisResult:
    r = Range.of(1, 0, 3, 4)
    cuda = CudaSpec(
        kernel="rowsum",
        params=(CudaParam("x", "const float*", "float", True, True, CudaParamRole.INPUT, "float32"),),
        arguments=(CudaArgument("x", "randn(n)", "randn", ("n",)),),
        grid=("(n+127)/128",),
        block=("128",),
    )
    return AnalysisResult(
        path="a.py",
        language=Language.PYTHON,
        sites=(
            Site(SiteKind.TORCH_MODULE, "Model", Language.PYTHON, r, r, ModuleSpec()),
            Site(SiteKind.TORCH_FUNCTION, "f", Language.PYTHON, r, r, FunctionSpec("mk", atol=1e-3)),
            Site(SiteKind.CUDA_KERNEL, "rowsum", Language.CUDA, r, r, cuda),
            Site(SiteKind.TRITON_KERNEL, "k", Language.PYTHON, r, r, None, links=("launch",)),
        ),
        findings=(Finding("KW101", "host-sync", "msg", Severity.WARNING, r, "why"),),
    )


def test_round_trip_through_json_text() -> None:
    original = _result()
    text = json.dumps(to_json(original))
    assert from_json(AnalysisResult, json.loads(text)) == original


def test_spec_union_picks_the_right_convention() -> None:
    data = to_json(FunctionSpec("make_inputs"))
    assert isinstance(data, dict) and data["convention"] == "function"
    site = from_json(Site, to_json(_result().sites[1]))
    assert isinstance(site.spec, FunctionSpec)
    assert site.spec.atol == 1e-3


def test_non_finite_floats_stay_readable() -> None:
    assert to_json(float("nan")) == "nan"
    assert to_json(float("inf")) == "inf"


def test_enum_members_become_plain_values() -> None:
    out = to_json({"kind": SiteKind.TRITON_KERNEL, "sev": Severity.HINT})
    assert out == {"kind": "triton_kernel", "sev": "hint"}
    assert isinstance(out, dict) and type(out["kind"]) is str


@dataclass(frozen=True)
class _Timed:
    name: str
    phase_seconds: dict[str, float] = field(default_factory=dict, metadata=renamed_from("stage_seconds"))


@dataclass(frozen=True)
class _Holder:
    timed: _Timed | None = None


def test_a_renamed_field_loads_from_its_former_key_but_not_from_untrusted_json() -> None:
    old = {"name": "x", "stage_seconds": {"load": 1.0}}
    assert from_json(_Timed, old) == _Timed("x", {"load": 1.0})
    assert from_json(_Holder, {"timed": old}) == _Holder(_Timed("x", {"load": 1.0}))  # a union member
    assert to_json(_Timed("x", {"load": 1.0})) == {"name": "x", "phase_seconds": {"load": 1.0}}
    with pytest.raises(TypeError, match="stage_seconds"):
        from_untrusted_json(_Timed, old)
