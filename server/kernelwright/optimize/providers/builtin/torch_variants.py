"""torch.compile variants of a torch site, as rewrites of the person's own file.

The candidate is the file with a `@torch.compile(...)` decorator on the site's `forward` (module
convention and classes) or on the function itself, so the verified code is exactly the edit. Modes are
tried in an order that fits the device: CUDA graphs (reduce-overhead) only on a GPU. The original is
evaluated by the loop as the baseline, so a variant that is slower than eager (common on small
problems, PITFALLS 18) simply loses.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin.pysource import Offsets, top_level_class, top_level_function

COMPILED_METHODS = ("forward", "__call__")


@dataclass(frozen=True)
class CompileVariant:
    slug: str  # for candidate ids
    arguments: str  # what goes inside torch.compile(...): "" for the defaults
    why: str


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
        if "compile" in ast.unparse(deco):
            return f"`{site_name}` is already under torch.compile"
    line = node.lineno - 1  # the `def` line: the decorator goes right above it, below other decorators
    text = Offsets(file_text).lines[line]
    return line, text[: len(text) - len(text.lstrip())]


def render(file_text: str, target: tuple[int, str], variant: CompileVariant) -> str:
    line, indent = target
    lines = file_text.splitlines(keepends=True)
    call = f"@torch.compile({variant.arguments})" if variant.arguments else "@torch.compile"
    lines.insert(line, f"{indent}{call}\n")
    text = "".join(lines)
    if not _imports_torch(file_text):
        text = "import torch\n" + text
    return text


def _imports_torch(file_text: str) -> bool:
    try:
        tree = ast.parse(file_text)
    except SyntaxError:
        return False
    return any(
        isinstance(n, ast.Import) and any(a.name == "torch" and a.asname is None for a in n.names)
        for n in tree.body
    )
