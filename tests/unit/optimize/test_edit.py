"""Merging a winning candidate into the person's file, and the minimal LSP edits that do it."""

from __future__ import annotations

import ast

import pytest
from kernelwright.analysis import analyze
from kernelwright.core.candidate import Candidate, TextEdit
from kernelwright.core.measure import content_key
from kernelwright.core.settings import ProviderName
from kernelwright.core.site import Convention
from kernelwright.optimize.edit import (
    EditError,
    apply_edits,
    merge_cuda,
    merge_python,
    minimal_edits,
    plan_edit,
    spanning_edit,
)
from support.optimize_requests import MODULE_FILE


def _site(text: str, name: str, path: str = "/w/f.py"):
    site = analyze(text, path).site(name)
    assert site is not None, name
    return site


def test_module_candidate_replaces_the_class_and_is_renamed_to_model() -> None:
    candidate = """import torch
import torch.nn as nn
import math


def _scale(x):
    return x * math.log(2.0)


class ModelNew(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)
"""
    new = merge_python(MODULE_FILE, _site(MODULE_FILE, "Model"), candidate, Convention.MODULE)
    tree = ast.parse(new)
    names = [n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)]
    assert names == ["_scale", "Model", "get_inputs", "get_init_inputs"]
    assert "ModelNew" not in new and "torch.softmax(x, dim=self.dim)" in new
    assert new.count("import torch\n") == 1 and "import math\n" in new
    assert new.index("import math") < new.index("def _scale")


def test_a_candidate_subclassing_the_original_keeps_it_under_another_name() -> None:
    candidate = "import torch\n\n\nclass ModelNew(Model):\n    def forward(self, x):\n        return torch.softmax(x, dim=self.dim)\n"
    new = merge_python(MODULE_FILE, _site(MODULE_FILE, "Model"), candidate, Convention.MODULE)
    tree = ast.parse(new)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    assert set(classes) == {"ModelReference", "Model"}
    assert ast.unparse(classes["Model"].bases[0]) == "ModelReference"


FUNCTION_FILE = """import torch


def helper(x):
    return x + 1


def make_inputs():
    return (torch.randn(8),)


# kernelwright: bench inputs=make_inputs
def scale(x):
    return helper(x) * 2 - 2
"""


def test_function_candidate_keeps_the_directive_and_replaces_a_helper_in_place() -> None:
    candidate = "import torch\n\n\ndef helper(x):\n    return x.add(1)\n\n\ndef scale(x):\n    return helper(x).mul(2).sub(2)\n"
    new = merge_python(FUNCTION_FILE, _site(FUNCTION_FILE, "scale"), candidate, Convention.FUNCTION)
    assert (
        "# kernelwright: bench inputs=make_inputs\ndef scale(x):\n    return helper(x).mul(2).sub(2)\n" in new
    )
    assert "return x.add(1)" in new and "return x + 1" not in new
    assert new.index("def helper") < new.index("def make_inputs")  # replaced where it stood
    site = analyze(new, "/w/f.py").site("scale")
    assert site is not None and site.spec is not None


def test_a_candidate_without_the_symbol_cannot_be_merged() -> None:
    with pytest.raises(EditError, match="does not define `scale`"):
        merge_python(
            FUNCTION_FILE, _site(FUNCTION_FILE, "scale"), "def other():\n    pass\n", Convention.FUNCTION
        )
    with pytest.raises(EditError, match="does not parse"):
        merge_python(FUNCTION_FILE, _site(FUNCTION_FILE, "scale"), "def scale(:\n", Convention.FUNCTION)


CU = """// a file with two kernels
#include <cuda_runtime.h>

// kernelwright: bench n=1024 x=randn(n) out=empty(n) grid=(n+255)/256 block=256
extern "C" __global__ void twice(int n, const float* __restrict__ x, float* __restrict__ out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2.0f * x[i];
}

extern "C" __global__ void other(int n, float* out) { if (threadIdx.x < n) out[threadIdx.x] = 0.0f; }
"""


def test_cuda_candidate_replaces_the_kernel_and_its_directive() -> None:
    candidate = """#include <cuda_runtime.h>
#include <cuda_fp16.h>

__device__ __forceinline__ float dbl(float v) { return v + v; }

// kernelwright: bench n=1024 x=randn(n) out=empty(n) grid=(n+511)/512 block=512
extern "C" __global__ void twice(int n, const float* __restrict__ x, float* __restrict__ out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = dbl(x[i]);
}
"""
    new = merge_cuda(CU, _site(CU, "twice", "/w/k.cu"), candidate)
    assert "grid=(n+511)/512 block=512" in new and "grid=(n+255)/256" not in new
    assert "#include <cuda_fp16.h>" in new and new.count("#include <cuda_runtime.h>") == 1
    assert new.index("__device__ __forceinline__ float dbl") < new.index("void twice")
    assert "void other" in new
    sites = analyze(new, "/w/k.cu")
    assert {s.name for s in sites.sites} >= {"twice", "other"}


def test_minimal_edits_apply_back_to_the_new_text_with_utf16_positions() -> None:
    old = "# héllo 🙂 wörld\nx = 1\ny = 2\nz = 3\n"
    new = "# héllo 🙂 wörld\nx = 10\ny = 2\nz = 3\nw = 4\n"
    edits = minimal_edits(old, new, "/w/a.py")
    assert len(edits) == 2
    assert all(e.original_hash == content_key(old) for e in edits)
    assert edits[0].range.start.line == 1 and edits[0].new_text == "x = 10\n"
    assert apply_edits(old, edits) == new


def test_the_spanning_edit_covers_every_hunk_and_makes_the_same_file() -> None:
    old = "# héllo 🙂\na = 1\nb = 2\nc = 3\nd = 4\n"
    new = "# héllo 🙂\na = 10\nb = 2\nc = 3\nd = 40\ne = 5\n"
    edits = minimal_edits(old, new, "/w/a.py")
    assert len(edits) == 2
    span, replaced, replacement = spanning_edit(old, new, edits)
    assert (span.start.line, span.start.character) == (1, 0)
    assert (span.end.line, span.end.character) == (5, 0)
    assert replaced == "a = 1\nb = 2\nc = 3\nd = 4\n"
    assert replacement == "a = 10\nb = 2\nc = 3\nd = 40\ne = 5\n"
    assert apply_edits(old, (TextEdit("/w/a.py", span, replacement, content_key(old)),)) == new


def test_plan_edit_uses_a_builtin_candidates_whole_file() -> None:
    rewritten = FUNCTION_FILE.replace("* 2 - 2", "* 2 - 2  # same")
    cand = Candidate("c", rewritten, "scale", ProviderName.BUILTIN, 1, file_text=rewritten)
    plan = plan_edit(cand, _site(FUNCTION_FILE, "scale"), FUNCTION_FILE, "/w/f.py", Convention.FUNCTION)
    assert plan.new_text == rewritten
    assert len(plan.edits) == 1 and apply_edits(FUNCTION_FILE, plan.edits) == rewritten
