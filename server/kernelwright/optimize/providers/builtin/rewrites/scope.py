"""Where a rewrite looks (the site's function or its class's methods), what it sees there (the
function's dataflow, the layers __init__ builds) and how its matches are applied to the file."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin.pysource import (
    Offsets,
    Splice,
    add_module_code,
    apply_splices,
    dotted,
)
from kernelwright.optimize.providers.builtin.rewrites import ssa
from kernelwright.optimize.providers.builtin.rewrites.flow import (
    At,
    Flow,
    find_function,
    remove_dead_assignments,
)

F = "torch.nn.functional"


@dataclass(frozen=True)
class Target:
    """Where the site's code is: a method of a class (`forward`) or a top-level function."""

    func: str
    cls: str | None

    @staticmethod
    def all_of(file_text: str, site_name: str, kind: SiteKind) -> list[Target]:
        """The site's function, or every method of its class but __init__ (forward first)."""
        tree = ast.parse(file_text)
        if kind not in (SiteKind.TORCH_MODULE, SiteKind.BENCH_CLASS):
            return [Target(site_name, None)] if find_function(tree, site_name, None) is not None else []
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == site_name), None)
        if cls is None:
            return []
        names = [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"]
        names.sort(key=lambda n: n not in ("forward", "__call__"))
        return [Target(n, site_name) for n in names]


@dataclass(frozen=True)
class Hit:
    node: ast.expr
    text: str
    helpers: tuple[str, ...] = ()  # module-level source the replacement calls
    imports: tuple[str, ...] = ()  # import lines it needs
    what: str = ""  # for the rationale: "RMSNorm", "causal attention"


class Scope:
    """The rewritten function's dataflow and what its class's __init__ builds (`self.x = nn.Linear`)."""

    def __init__(self, file_text: str, target: Target) -> None:
        self.text = file_text
        tree = ast.parse(file_text)
        func = find_function(tree, target.func, target.cls)
        assert func is not None
        self.flow = Flow(func)
        self.layers: dict[str, ast.Call] = {}
        init = find_function(tree, "__init__", target.cls) if target.cls else None
        for node in ast.walk(init) if init is not None else ():
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self"
                and isinstance(node.value, ast.Call)
            ):
                self.layers[node.targets[0].attr] = node.value

    def src(self, node: ast.AST) -> str:
        offsets = Offsets(self.text)
        return self.text[offsets.start(node) : offsets.end(node)]

    def take(self, at: At, until: int) -> str | None:
        """`at`'s source, if it can be written in statement `until` and mean the same."""
        return self.src(at.node) if self.flow.stable(at, until) else None

    def layer(self, call: ast.expr) -> tuple[str, ast.Call] | None:
        """(`self.name`, the nn constructor call) for a call of a layer built in __init__."""
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and dotted(call.func.value) == "self"
            and call.func.attr in self.layers
        ):
            return f"self.{call.func.attr}", self.layers[call.func.attr]
        return None


Matcher = Callable[[Scope, At, bool], Hit | None]


def apply(
    file_text: str, targets: list[Target], matchers: tuple[Matcher, ...], on_gpu: bool
) -> tuple[str, list[str]] | None:
    """The file with every match of `matchers` in each target replaced, or None where none matched."""
    whats: list[str] = []
    helpers: list[str] = []
    imports: list[str] = []
    text = file_text
    for target in targets:
        hits = _hits(text, target, matchers, on_gpu)
        if hits is None:
            continue
        text, found = hits
        whats += [h.what for h in found]
        helpers += [h for hit in found for h in hit.helpers]
        imports += [i for hit in found for i in hit.imports]
    if not whats:
        return None
    text = add_module_code(text, list(dict.fromkeys(imports)), list(dict.fromkeys(helpers)))
    return text, list(dict.fromkeys(whats))


def _hits(
    file_text: str, target: Target, matchers: tuple[Matcher, ...], on_gpu: bool
) -> tuple[str, list[Hit]] | None:
    """One function's matches (outermost first, none inside another) replaced, its dead code removed."""
    numbered = ssa.number(file_text, target.func, target.cls)
    scope = Scope(numbered, target)
    offsets = Offsets(numbered)
    hits: list[Hit] = []
    spans: list[tuple[int, int]] = []
    for at in scope.flow.expressions():
        start, end = offsets.start(at.node), offsets.end(at.node)
        if any(s <= start and end <= e for s, e in spans):
            continue
        for matcher in matchers:
            hit = matcher(scope, at, on_gpu)
            if hit is not None:
                hits.append(hit)
                spans.append((start, end))
                break
    if not hits:
        return None
    text = apply_splices(numbered, [Splice(offsets.start(h.node), offsets.end(h.node), h.text) for h in hits])
    text = remove_dead_assignments(text, target.func, target.cls)
    # A match inside a statement that only fed another match is gone with it (the softmax that
    # `torch.log(probs)` -> log-softmax made dead): neither its helpers nor its name stay.
    live = [h for h in hits if h.text in text]
    return ssa.unnumber(text, target.func, target.cls), live
