"""DocumentAnalysis after edits equals a full analysis of the new text (hypothesis on random edits)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernelwright.analysis import DocumentAnalysis, analyze
from kernelwright.core.site import Range
from kernelwright.core.text import TextChange, position_at

PY_DOC = '''import torch
import torch.nn as nn
import triton
import triton.language as tl
from torch.utils.cpp_extension import load_inline


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(out_ptr + offs, x + tl.load(y_ptr + offs), mask=offs < n)


def make_inputs():
    return torch.randn(8), torch.randn(8)


# kernelwright: bench inputs=make_inputs atol=1e-3
def add(x, y):
    out = torch.zeros_like(x)  # é𝔵
    add_kernel[(1,)](x, y, out, x.numel(), BLOCK=64)
    return out


class Model(nn.Module):
    def forward(self, x):
        return x.cpu()


SRC = """
__global__ void scale(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] = x[i] * 2.0;
}
"""


def get_inputs():
    return [torch.randn(4)]


def build():
    return load_inline("m", "", cuda_sources=[SRC])
'''

CU_DOC = """#include <cuda_fp16.h>
// kernelwright: bench n=1024 x=randn(n) y=empty(n)
//   grid=(n+255)/256 block=256
extern "C" __global__ void scale(const float* x, float* y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { y[i] = x[i] * 2.0; }
}

__global__ void sync(float* y) {
    if (threadIdx.x < 4) __syncthreads();
}
"""

SNIPPETS = [
    "\n",
    "\r\n",
    " ",
    "x",
    "é",
    "𝔵",
    "#",
    "(",
    ")",
    "{",
    "}",
    '"""',
    "def f(x):\n    return x.item()\n",
    "@triton.jit\n",
    "# kernelwright: bench inputs=make_inputs\n",
    "# kernelwright: bench inputs=nope\n",
    "class ModelNew(Model):\n    pass\n",
    "    v = tl.load(x_ptr + offs)\n",
    "import triton as tr\n",
    "__global__ void k(float* p) { p[threadIdx.x] = 1.0; }\n",
    "// kernelwright: bench p=empty(4) grid=1 block=4\n",
    "//   bad\n",
]

edits = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=40),
        st.lists(st.sampled_from(SNIPPETS), max_size=3).map("".join),
    ),
    min_size=1,
    max_size=6,
)


def _check(path: str, text: str, steps: list[tuple[float, int, str]], batch: bool) -> None:
    doc = DocumentAnalysis(path, text)
    assert doc.result == analyze(text, path)
    changes: list[TextChange] = []
    for where, length, insert in steps:
        current = doc.text if not batch else _preview(text, changes)
        start = int(where * len(current))
        end = min(len(current), start + length)
        change = TextChange(insert, Range(position_at(current, start), position_at(current, end)))
        if batch:
            changes.append(change)
        else:
            doc.apply_changes([change])
            assert doc.result == analyze(doc.text, path)
    if batch:
        doc.apply_changes(changes, version=7)
        assert doc.version == 7
        assert doc.text == _preview(text, changes)
        assert doc.result == analyze(doc.text, path)


def _preview(text: str, changes: list[TextChange]) -> str:
    from kernelwright.core.text import apply_change

    for c in changes:
        text = apply_change(text, c)
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits, st.booleans())
def test_python_incremental_equals_full(steps: list[tuple[float, int, str]], batch: bool) -> None:
    _check("doc.py", PY_DOC, steps, batch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits, st.booleans())
def test_cuda_incremental_equals_full(steps: list[tuple[float, int, str]], batch: bool) -> None:
    _check("doc.cu", CU_DOC, steps, batch)


def test_whole_document_replacement_and_reuse() -> None:
    doc = DocumentAnalysis("doc.py", PY_DOC)
    before = doc.result
    assert {s.name for s in before.sites} >= {"add_kernel", "add", "Model", "scale"}
    doc.apply_changes([TextChange("x = 1\n")])
    assert doc.result.sites == ()
    doc.apply_changes([TextChange(PY_DOC)])
    assert doc.result == before


def test_edit_inside_function_moves_later_sites() -> None:
    doc = DocumentAnalysis("doc.py", PY_DOC)
    model = doc.result.site("Model")
    assert model is not None
    line = PY_DOC.splitlines().index("def make_inputs():")
    doc.apply_changes([TextChange("\n\n", Range.of(line, 0, line, 0))], version=2)
    moved = doc.result.site("Model")
    assert moved is not None
    assert moved.range.start.line == model.range.start.line + 2
    assert moved.range.start.character == model.range.start.character


def test_a_big_document_parsed_in_slices_equals_a_full_analysis() -> None:
    from kernelwright.analysis.document import SLICED_PARSE_ABOVE

    filler = "".join(
        f"\n\ndef helper_{i}(a):\n    return [a, a + {i}]\n" for i in range(SLICED_PARSE_ABOVE // 30)
    )
    big = PY_DOC + filler + PY_DOC.replace("def add(", "def add_again(")
    assert len(big.encode()) > SLICED_PARSE_ABOVE
    doc = DocumentAnalysis("big.py", big)
    assert doc.result == analyze(big, "big.py")
    assert {"add", "add_again", "Model"} <= {s.name for s in doc.result.sites}
    broken = big + "\ndef broken(:\n"
    doc.apply_changes([TextChange(broken)])  # a whole-document change: a fresh parse, in slices
    assert doc.result == analyze(broken, "big.py")
