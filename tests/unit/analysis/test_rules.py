"""Each catalogue rule fires on code that has the problem and stays quiet on the correct version."""

from __future__ import annotations

from textwrap import dedent

import pytest
from kernelwright.analysis import analyze
from kernelwright.analysis.rules import RULES, RUN_RULES, RuleId
from kernelwright.core.site import Finding

PY_HEAD = "import torch\nimport torch.nn as nn\nimport triton\nimport triton.language as tl\n"


def findings(src: str, path: str) -> list[Finding]:
    text = dedent(src)
    if path.endswith(".py"):
        text = PY_HEAD + text
    return list(analyze(text, path).findings)


def snippet(f: Finding, src: str, path: str) -> str:
    text = dedent(src)
    if path.endswith(".py"):
        text = PY_HEAD + text
    line = text.splitlines()[f.range.start.line]
    return line[f.range.start.character : f.range.end.character]


MODULE = """
class Net(nn.Module):
    def forward(self, x):
        {body}
        return x
"""

KERNEL = """
@triton.jit
def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    {body}

def launch(x):
    out = {alloc}
    k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK={block})
    return out
"""

CU = """
__global__ void k(const float* x, float* y, int n) {{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    {body}
}}
"""

GOOD_KERNEL_BODY = "tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)"

# (rule, path, bad source, the text the finding must cover, good source)
CASES = [
    (
        RuleId.SYNTAX_ERROR,
        "m.py",
        MODULE.format(body="y = torch.relu(x"),
        "y = torch.relu(x",
        MODULE.format(body="y = torch.relu(x)"),
    ),
    (
        RuleId.HOST_SYNC,
        "m.py",
        MODULE.format(body="s = x.sum().item()"),
        "x.sum().item()",
        MODULE.format(body="s = x.sum()"),
    ),
    (
        RuleId.HOST_SYNC,
        "m.py",
        MODULE.format(body="torch.cuda.synchronize()"),
        "torch.cuda.synchronize()",
        MODULE.format(body="torch.cuda.current_stream()"),
    ),
    (
        RuleId.HOST_SYNC,
        "m.py",
        MODULE.format(body="y = x.cpu()"),
        "x.cpu()",
        "def not_hot(x):\n    return x.cpu()\n",
    ),
    (
        RuleId.PYTHON_LOOP,
        "m.py",
        MODULE.format(body="for i in range(x.shape[0]): x[i] = x[i] * 2"),
        "for i in range(x.shape[0])",
        MODULE.format(body="for layer in self.layers: x = layer(x)"),
    ),
    (
        RuleId.PYTHON_LOOP,
        "m.py",
        MODULE.format(body="for row in x: row.mul_(2)"),
        "for row in x",
        MODULE.format(body="x = x * 2"),
    ),
    (
        RuleId.UNMASKED_ACCESS,
        "t.py",
        KERNEL.format(
            body="tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n))",
            alloc="torch.empty_like(x)",
            block=64,
        ),
        "tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n))",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.empty_like(x)", block=64),
    ),
    (
        RuleId.UNMASKED_ACCESS,
        "t.py",
        KERNEL.format(
            body="v = tl.load(x_ptr + offs)\n    tl.store(out_ptr + offs, v, mask=offs < n)",
            alloc="torch.empty_like(x)",
            block=64,
        ),
        "tl.load(x_ptr + offs)",
        KERNEL.format(
            body="v = tl.load(x_ptr + tl.program_id(0))\n    tl.store(out_ptr + tl.program_id(0), v)",
            alloc="torch.empty_like(x)",
            block=64,
        ),
    ),
    (
        RuleId.FLOAT64_IN_KERNEL,
        "t.py",
        KERNEL.format(
            body=GOOD_KERNEL_BODY + "\n    z = offs.to(tl.float64)", alloc="torch.empty_like(x)", block=64
        ),
        "tl.float64",
        KERNEL.format(
            body=GOOD_KERNEL_BODY + "\n    z = offs.to(tl.float32)", alloc="torch.empty_like(x)", block=64
        ),
    ),
    (
        RuleId.FLOAT64_IN_KERNEL,
        "k.cu",
        CU.format(body="if (i < n) { double d = x[i]; y[i] = (float)d; }"),
        "double",
        CU.format(body="if (i < n) { float d = x[i]; y[i] = d; }"),
    ),
    (
        RuleId.DOUBLE_LITERAL,
        "k.cu",
        CU.format(body="if (i < n) y[i] = x[i] * 0.5 + 1e-3f;"),
        "0.5",
        CU.format(body="if (i < n) y[i] = x[i] * 0.5f + 1e-3f + 2;"),
    ),
    (
        RuleId.MISSING_BOUNDS_CHECK,
        "k.cu",
        CU.format(body="y[i] = x[i];"),
        "y[i]",
        CU.format(body="if (i >= n) return;\n    y[i] = x[i];"),
    ),
    (
        RuleId.MISSING_BOUNDS_CHECK,
        "k.cu",
        CU.format(body="int j = i * 2; y[j] = x[j];"),
        "y[j]",
        CU.format(body="for (int j = i; j < n; j += blockDim.x * gridDim.x) y[j] = x[j];"),
    ),
    (
        RuleId.NON_POW2_BLOCK,
        "t.py",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.empty_like(x)", block=48),
        "48",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.empty_like(x)", block=128),
    ),
    (
        RuleId.NON_POW2_BLOCK,
        "t.py",
        KERNEL.format(
            body=GOOD_KERNEL_BODY + "\n    r = tl.arange(0, 96)", alloc="torch.empty_like(x)", block=64
        ),
        "tl.arange(0, 96)",
        KERNEL.format(
            body=GOOD_KERNEL_BODY + "\n    r = tl.arange(32, 96)", alloc="torch.empty_like(x)", block=64
        ),
    ),
    (
        RuleId.ZEROS_FOR_OUTPUT,
        "t.py",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.zeros_like(x)", block=64),
        "torch.zeros_like",
        KERNEL.format(
            body=GOOD_KERNEL_BODY.replace("tl.store(out_ptr + offs, ", "tl.atomic_add(out_ptr + offs, "),
            alloc="torch.zeros_like(x)",
            block=64,
        ),
    ),
    (
        RuleId.DIVERGENT_SYNCTHREADS,
        "k.cu",
        CU.format(body="if (threadIdx.x < 32) { __syncthreads(); }\n    if (i < n) y[i] = x[i];"),
        "__syncthreads()",
        CU.format(
            body="if (blockIdx.x < 32) { __syncthreads(); }\n    if (i < n) y[i] = x[i];\n    __syncthreads();"
        ),
    ),
    (
        RuleId.DIVERGENT_SYNCTHREADS,
        "k.cu",
        CU.format(body="int t = threadIdx.x;\n    if (i < n) { y[i] = x[i]; if (t % 2) __syncthreads(); }"),
        "__syncthreads()",
        CU.format(body="int t = threadIdx.x;\n    if (i < n) y[i] = x[t];\n    __syncthreads();"),
    ),
    (
        RuleId.HOST_ALLOCATION,
        "m.py",
        MODULE.format(body="mask = torch.ones(x.shape[-1])"),
        "torch.ones(x.shape[-1])",
        MODULE.format(body="mask = torch.ones(x.shape[-1], device=x.device)"),
    ),
    (
        RuleId.HOST_ALLOCATION,
        "t.py",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.empty(x.numel())", block=64),
        "torch.empty(x.numel())",
        KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.empty(x.numel(), device=x.device)", block=64),
    ),
]


@pytest.mark.parametrize(
    ("rule", "path", "bad", "covers", "good"), CASES, ids=[f"{c[0].value}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_positive_and_negative(rule: RuleId, path: str, bad: str, covers: str, good: str) -> None:
    hits = [f for f in findings(bad, path) if f.rule == rule.value]
    assert len(hits) == 1, findings(bad, path)
    assert snippet(hits[0], bad, path) == covers
    assert findings(good, path) == [], findings(good, path)


def test_fixes() -> None:
    bad = KERNEL.format(body=GOOD_KERNEL_BODY, alloc="torch.zeros_like(x)", block=64)
    (f,) = findings(bad, "t.py")
    assert f.fix == "torch.empty_like"
    bad = MODULE.replace("return x", "return x")
    (lit,) = findings(CU.format(body="if (i < n) y[i] = x[i] * 1e-3;"), "k.cu")
    assert lit.fix == "1e-3f"


def test_catalogue_is_complete_and_stable() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) >= 9
    assert {r.id for r in RULES} == {r.value for r in RuleId}
    for r in RULES:
        assert r.name and r.title and r.rationale and r.languages
        assert r.name == r.name.lower() and " " not in r.name
    tested = {c[0] for c in CASES}
    # KW001 has tests of its own (test_directive_errors.py); KW000 reports an analysis bug (test_robustness.py);
    # KW900-KW903 come from runs, not from reading (tests/unit/lsp/test_present.py, tests/lsp/test_profile.py)
    assert tested == set(RuleId) - {RuleId.MALFORMED_DIRECTIVE, RuleId.ANALYSIS_ERROR} - RUN_RULES
