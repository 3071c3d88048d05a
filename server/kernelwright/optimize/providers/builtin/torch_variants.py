"""Decorator variants of a torch site: torch.compile's modes and a direct CUDA graph capture.

The candidate is the file with a decorator on the site's `forward` (module convention and classes) or
on the function itself (`@torch.compile(...)`, or `@_kw_cuda_graph` with its definition added to the
file), so the verified code is exactly the edit. Modes are tried in an order that fits the device:
CUDA graphs (reduce-overhead, direct capture) only on a GPU. The original is evaluated by the loop as
the baseline, so a variant that is slower than eager (common on small problems: torch.compile's guards
and launches cost more than the work) simply loses.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin.pysource import (
    Offsets,
    add_module_code,
    top_level_class,
    top_level_function,
)

COMPILED_METHODS = ("forward", "__call__")


# A direct capture for modules and functions whose kernels and shapes do not change between calls
# (launch-bound small modules): one graph replay per call instead of a launch per kernel. The inputs are
# copied into the graph's buffers and its outputs cloned, so each call returns fresh tensors (a call's
# output must not be overwritten by the next one's).
CUDA_GRAPH_HELPER = '''def _kw_cuda_graph(fn):
    """Runs `fn` as a CUDA graph captured once per input signature (its first CUDA call with those
    shapes); calls without CUDA tensors run `fn` as written."""
    graphs = {}

    def fresh(out):
        if isinstance(out, torch.Tensor):
            return out.clone()
        if isinstance(out, tuple | list):
            return type(out)(fresh(o) for o in out)
        return out

    def run(*args):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if not tensors or not all(t.is_cuda for t in tensors) or torch.cuda.is_current_stream_capturing():
            return fn(*args)
        key = tuple((a.shape, a.dtype, a.device) if isinstance(a, torch.Tensor) else id(a) for a in args)
        if key not in graphs:
            static = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(3):
                    fn(*static)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = fn(*static)
            graphs[key] = (graph, static, out)
        graph, static, out = graphs[key]
        for dst, src in zip(static, args):
            if isinstance(src, torch.Tensor):
                dst.copy_(src)
        graph.replay()
        return fresh(out)

    return run'''


@dataclass(frozen=True)
class CompileVariant:
    slug: str  # for candidate ids
    arguments: str  # what goes inside torch.compile(...): "" for the defaults
    why: str
    decorator: str = ""  # another decorator instead of torch.compile (with `helper` defining it)
    helper: str = ""

    def line(self) -> str:
        if self.decorator:
            return f"@{self.decorator}"
        return f"@torch.compile({self.arguments})" if self.arguments else "@torch.compile"


CUDA_GRAPH = CompileVariant(
    "cuda-graph",
    "",
    "direct CUDA graph capture: one graph replay per call instead of a launch per kernel",
    decorator="_kw_cuda_graph",
    helper=CUDA_GRAPH_HELPER,
)


def variants(on_gpu: bool) -> list[CompileVariant]:
    found = [
        CompileVariant(
            "default", "", "torch.compile with default settings: Inductor fuses the elementwise chain"
        ),
        CompileVariant(
            "max-autotune",
            'mode="max-autotune-no-cudagraphs", dynamic=False',
            "max-autotune: Inductor benchmarks matmul/conv templates and Triton configs for these shapes",
        ),
        CompileVariant(
            "fullgraph", "fullgraph=True, dynamic=False", "one graph for the whole forward with static shapes"
        ),
    ]
    if on_gpu:
        found.insert(
            2,
            CompileVariant(
                "reduce-overhead",
                'mode="reduce-overhead", dynamic=False',
                "CUDA graphs: removes per-kernel launch overhead, which dominates small problems",
            ),
        )
    return found


def compile_target(file_text: str, site_name: str, kind: SiteKind) -> tuple[int, str] | str:
    # Also where the CUDA graph decorator goes.
    """(line index to put the decorator on, its indentation), or why the site cannot be compiled."""
    try:
        tree = ast.parse(file_text)
    except SyntaxError as exc:
        return f"the file does not parse: {exc.msg} (line {exc.lineno})"
    if kind in (SiteKind.TORCH_MODULE, SiteKind.BENCH_CLASS):
        cls = top_level_class(tree, site_name)
        if cls is None:
            return f"no top-level class `{site_name}`"
        method = next(
            (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in COMPILED_METHODS), None
        )
        if method is None:
            return f"`{site_name}` has no forward or __call__ to compile"
        node: ast.FunctionDef = method
    else:
        func = top_level_function(tree, site_name)
        if func is None:
            return f"no top-level function `{site_name}`"
        node = func
    for deco in node.decorator_list:
        if "compile" in ast.unparse(deco) or "cuda_graph" in ast.unparse(deco):
            return f"`{site_name}` is already under torch.compile or a CUDA graph"
    line = node.lineno - 1  # the `def` line: the decorator goes right above it, below other decorators
    text = Offsets(file_text).lines[line]
    return line, text[: len(text) - len(text.lstrip())]


def render(file_text: str, target: tuple[int, str], variant: CompileVariant) -> str:
    line, indent = target
    lines = file_text.splitlines(keepends=True)
    lines.insert(line, f"{indent}{variant.line()}\n")
    return add_module_code("".join(lines), [], [variant.helper] if variant.helper else [])
