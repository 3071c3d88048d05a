"""Static checks on a candidate's source: tampering with the harness, and fallbacks to the reference.

A catalogue, in KernelBench's manner: each pattern has a name and a stated rationale. Static checks only
flag what the live check (`clock.tampered()`) might miss, e.g. a patch that a candidate undoes before
returning. They read the candidate as text (ast), never run it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class TamperRule:
    name: str
    targets: tuple[str, ...]  # dotted prefixes that must not be assigned to (or setattr'd)
    rationale: str


RULES: tuple[TamperRule, ...] = (
    TamperRule(
        "timer-patch",
        ("time.perf_counter", "time.perf_counter_ns", "time.time", "time.monotonic", "timeit"),
        "replacing the clock makes every later measurement in the process report what the candidate likes",
    ),
    TamperRule(
        "sync-patch",
        ("torch.cuda.synchronize", "torch.cuda.Event", "torch.cuda.current_stream", "torch.cuda.Stream"),
        "a no-op synchronise or a fake event lets asynchronous work escape the timed region",
    ),
    TamperRule(
        "statistics-patch",
        ("statistics", "numpy.median", "np.median", "numpy.percentile", "np.percentile"),
        "patching the statistics turns any sample into any median",
    ),
    TamperRule(
        "checker-patch",
        ("torch.allclose", "torch.isclose", "torch.equal", "torch.testing"),
        "a comparison that always agrees makes any output correct",
    ),
    TamperRule(
        "tensor-patch",
        ("torch.Tensor", "torch.nn.Module", "torch._C"),
        "patching Tensor or Module methods changes what the harness's own copies and comparisons do",
    ),
    TamperRule(
        "harness-patch",
        ("kernelwright",),
        "the harness is out of a candidate's reach",
    ),
)

_ALIASES = {"np": "numpy"}


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _import_map(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin, `from time import perf_counter as pc`: pc -> time.perf_counter."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _resolve(dotted: str, imports: dict[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    origin = imports.get(head, _ALIASES.get(head, head))
    return f"{origin}.{rest}" if rest else origin


@dataclass(frozen=True)
class StaticHit:
    rule: str
    line: int  # 0-based
    target: str
    rationale: str


def _matches(target: str) -> TamperRule | None:
    for rule in RULES:
        for prefix in rule.targets:
            if target == prefix or target.startswith(prefix + "."):
                return rule
    return None


def static_tamper(source: str) -> list[StaticHit]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    imports = _import_map(tree)
    hits: list[StaticHit] = []

    def check(target_node: ast.AST, line: int) -> None:
        dotted = _dotted(target_node)
        if dotted is None or ("." not in dotted and dotted not in imports):
            return
        resolved = _resolve(dotted, imports)
        if "." not in resolved:  # rebinding a local name is not a patch
            return
        rule = _matches(resolved)
        if rule is not None:
            hits.append(StaticHit(rule.name, line, resolved, rule.rationale))

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute):
                    check(t, node.lineno - 1)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            fn = _dotted(node.func)
            if fn in ("setattr", "builtins.setattr", "object.__setattr__") and node.args:
                obj = _dotted(node.args[0])
                attr = node.args[1] if len(node.args) > 1 else None
                if obj is not None and isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    resolved = f"{_resolve(obj, imports)}.{attr.value}"
                    rule = _matches(resolved)
                    if rule is not None:
                        hits.append(StaticHit(rule.name, node.lineno - 1, resolved, rule.rationale))
    return hits


@dataclass(frozen=True)
class FallbackHit:
    line: int  # 0-based
    reason: str


def static_fallback(source: str, reference_names: set[str], own: str) -> list[FallbackHit]:
    """Calls to the reference (by name, or importing it from the reference's module), and try/except
    blocks whose handler calls one of the reference's names (docs/PITFALLS.md 15). `own` is the candidate's
    own symbol: calling it is not a fallback, importing it from elsewhere is."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    hits: list[FallbackHit] = []
    defined = {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in reference_names:
                    imported.add(alias.asname or alias.name)
                    hits.append(FallbackHit(node.lineno - 1, f"imports the reference `{alias.name}`"))
    # The reference's names that the candidate calls without defining them itself.
    reference_names = reference_names | {own}
    foreign = (reference_names - defined - {own}) | imported
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = _dotted(node.func)
            last = fn.split(".")[-1] if fn else None
            if fn in foreign or (fn and "." in fn and last in reference_names and last not in defined):
                hits.append(FallbackHit(node.lineno - 1, f"calls the reference `{fn}`"))
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                for sub in ast.walk(handler):
                    if isinstance(sub, ast.Call):
                        fn = _dotted(sub.func)
                        if fn and fn.split(".")[-1] in reference_names:
                            hits.append(
                                FallbackHit(
                                    sub.lineno - 1, f"falls back to the reference `{fn}` in an except block"
                                )
                            )
    unique: dict[tuple[int, str], FallbackHit] = {(h.line, h.reason): h for h in hits}
    return sorted(unique.values(), key=lambda h: h.line)
