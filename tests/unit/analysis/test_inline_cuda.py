"""CUDA inside Python strings given to load_inline: sites and findings mapped to the Python file."""

from __future__ import annotations

import pytest
from kernelwright.analysis import analyze
from kernelwright.core.site import CudaSpec, Range, SiteKind

BODY = (
    "__global__ void scale(const float* x, float* y, int n) {\n"
    "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "    if (i < n) y[i] = x[i] * 2.0;\n"
    "}\n"
)


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from torch.utils.cpp_extension import load_inline", "load_inline"),
        ("import torch.utils.cpp_extension", "torch.utils.cpp_extension.load_inline"),
        ("import torch.utils.cpp_extension as ext", "ext.load_inline"),
        ("from torch.utils import cpp_extension", "cpp_extension.load_inline"),
        ("from torch.utils.cpp_extension import load_inline as li", "li"),
    ],
)
def test_variable_source_mapped_back(imports: str, call: str) -> None:
    src = f'{imports}\n\nSRC = """/* é */ {BODY}"""\n\ndef build():\n    return {call}(name="m", cpp_sources="", cuda_sources=[SRC], functions=["f"])\n'
    r = analyze(src, "m.py")
    (site,) = r.sites
    assert site.kind is SiteKind.INLINE_CUDA_KERNEL
    assert site.container == "SRC"
    # `SRC = """/* é */ ` then the kernel on the same line: 17 units in (é is one unit but 2 bytes).
    assert site.name_range == Range.of(2, 17 + len("__global__ void "), 2, 17 + len("__global__ void scale"))
    assert site.range.end == Range.of(5, 0, 5, 1).end
    (lit,) = r.findings
    assert lit.rule == "KW106"
    col = len("    if (i < n) y[i] = x[i] * ")
    assert lit.range == Range.of(4, col, 4, col + 3)
    assert lit.fix == "2.0f"


def test_literal_source_and_directive_inside_string() -> None:
    directive = "// kernelwright: bench n=64 x=randn(n) y=empty(n) grid=(n+63)/64 block=64\n"
    src = (
        "from torch.utils.cpp_extension import load_inline\n"
        "def build():\n"
        f'    return load_inline("m", "", cuda_sources="""\n{directive}{BODY.replace("2.0", "2.0f")}""")\n'
    )
    r = analyze(src, "m.py")
    (site,) = r.sites
    assert site.container == "load_inline"
    assert site.name_range.start.line == 4
    assert isinstance(site.spec, CudaSpec)
    assert site.spec.grid == ("(n+63)/64",)
    assert r.findings == ()


def test_string_not_given_to_load_inline_is_ignored() -> None:
    src = f'DOC = """{BODY}"""\n'
    assert analyze(src, "m.py").sites == ()
