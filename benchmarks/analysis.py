"""Analysis speed: full analysis and incremental re-analysis after a one-line edit.

Generates a 5,000-line Python file (200 Triton kernels, their launchers with bench directives, and 200
nn.Module classes) and a 2,000-line CUDA file (directive + __global__ kernel per unit), then times
`analyze()` from scratch and `DocumentAnalysis.apply_changes()` after a one-line edit inside a kernel
in the middle of the file. Prints median, p10 and p90 over --runs runs each.

    python benchmarks/analysis.py [--runs 50] [--clock wall|cpu]

`--clock cpu` times with this process's CPU time instead of the wall clock: on a shared box, time spent
waiting for a core that another tenant holds is left out (analysis is single-threaded and does no I/O).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from kernelwright.analysis import DocumentAnalysis, analyze
from kernelwright.analysis.parsing import parser_for
from kernelwright.analysis.pipeline import clear_caches
from kernelwright.core.site import Language, Range
from kernelwright.core.text import TextChange

PY_UNIT = """
@triton.jit
def kernel_{i}(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * 2.0, mask=mask)

# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs
def launch_{i}(x):
    out = torch.empty_like(x)
    n = x.numel()
    kernel_{i}[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
    return out

class Block{i}(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return torch.relu(self.proj(x)) + launch_{i}(x)

"""

PY_HEAD = """import torch
import torch.nn as nn
import triton
import triton.language as tl


def make_inputs():
    return (torch.randn(1 << 20),)


def make_small_inputs():
    return (torch.randn(1000),)
"""

CU_UNIT = """
// kernelwright: bench n=1048576 a=2 x=randn(n) out=empty(n)
//   grid=(n+255)/256 block=256
extern "C" __global__ void scale_{i}(const float* __restrict__ x, float* __restrict__ out, int n, int a)
{{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {{
        out[i] = x[i] * 2.0f + (float)a;
    }}
}}

"""


def python_source(lines: int = 5000, units: int = 200, distinct: bool = False) -> str:
    """`distinct`: every bench directive's text differs (its atol), so no read of one is reused."""
    body = PY_HEAD + "".join(PY_UNIT.format(i=i) for i in range(units))
    if distinct:
        plain = "# kernelwright: bench inputs=make_inputs cpu_inputs=make_small_inputs\n"
        parts = body.split(plain)
        body = parts[0] + "".join(f"{plain[:-1]} atol=0.{i:04d}1\n{part}" for i, part in enumerate(parts[1:]))
    pad = lines - body.count("\n")
    return body + "# padding\n" * max(pad, 0)


def cuda_source(lines: int = 2000) -> str:
    unit_lines = CU_UNIT.count("\n")
    units = lines // unit_lines
    body = "#include <cuda_fp16.h>\n" + "".join(CU_UNIT.format(i=i) for i in range(units))
    return body + "// padding\n" * max(lines - body.count("\n"), 0)


def measure(
    fn: Callable[[], object], runs: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float, float]:
    fn()  # warm-up: imports, first parser
    times = []
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append((clock() - t0) * 1e3)
    q = statistics.quantiles(times, n=10)
    return statistics.median(times), q[0], q[-1]


def cold(path: str, text: str) -> Callable[[], object]:
    """A first analysis: no process-wide directive cache either."""

    def run() -> object:
        clear_caches()
        return analyze(text, path)

    return run


def incremental(path: str, text: str, marker: str, a: str, b: str) -> Callable[[], object]:
    """A callable that flips one line in the middle of the document between two versions."""
    doc = DocumentAnalysis(path, text)
    lines = text.split("\n")
    middle = len(lines) // 2
    line = next(i for i in range(middle, len(lines)) if marker in lines[i])
    col = lines[line].index(a)
    state = {"flip": False}

    def run() -> object:
        old, new = (b, a) if state["flip"] else (a, b)
        state["flip"] = not state["flip"]
        rng = Range.of(line, col, line, col + len(old))
        return doc.apply_changes([TextChange(new, rng)])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--distinct-directives",
        action="store_true",
        help="give each Python bench directive a different text (the default file repeats one directive)",
    )
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    py = python_source(distinct=args.distinct_directives)
    cu = cuda_source()
    py_result = analyze(py, "bench.py")
    cu_result = analyze(cu, "bench.cu")
    py_bytes, cu_bytes = py.encode(), cu.encode()
    rows = [
        (
            "python, tree-sitter parse only (floor)",
            measure(lambda: parser_for(Language.PYTHON).parse(py_bytes), args.runs, clock),
        ),
        (
            f"python {py.count(chr(10))} lines, {len(py_result.sites)} sites, full",
            measure(cold("bench.py", py), args.runs, clock),
        ),
        (
            "python, one-line edit, incremental",
            measure(incremental("bench.py", py, "x * 2.0", "2.0", "3.0"), args.runs, clock),
        ),
        (
            "cuda, tree-sitter parse only (floor)",
            measure(lambda: parser_for(Language.CUDA).parse(cu_bytes), args.runs, clock),
        ),
        (
            f"cuda {cu.count(chr(10))} lines, {len(cu_result.sites)} sites, full",
            measure(cold("bench.cu", cu), args.runs, clock),
        ),
        (
            "cuda, one-line edit, incremental",
            measure(incremental("bench.cu", cu, "2.0f", "2.0f", "3.0f"), args.runs, clock),
        ),
    ]
    assert not py_result.findings and not cu_result.findings, "the generated files must be clean"
    width = max(len(name) for name, _ in rows)
    print(f"{'case'.ljust(width)}  median ms  p10 ms  p90 ms  (runs={args.runs}, clock={args.clock})")
    for name, (median, p10, p90) in rows:
        print(f"{name.ljust(width)}  {median:9.2f}  {p10:6.2f}  {p90:6.2f}")


if __name__ == "__main__":
    main()
