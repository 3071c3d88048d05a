"""Straight-line dataflow inside one function, for source rewrites that replace a chain of statements.

A rewrite finds an expression (say `weights @ v`), follows the names it uses back through the plain
assignments above it (`weights = torch.softmax(scores, dim=-1)`, `scores = ...`), matches the chain,
and replaces the expression with one call. The statements that fed only the chain are then dead and
are removed, so the candidate does not compute them anyway (`remove_dead_assignments`).

Only the function's top-level statements are followed: an assignment inside an `if` or a loop is not
a definition the chain can rely on. A sub-expression taken from an earlier statement is reused in the
replacement only if none of its names was assigned again in between (`Flow.stable`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from kernelwright.optimize.providers.builtin.pysource import Offsets, Splice, apply_splices, dotted


@dataclass(frozen=True)
class At:
    """An expression and the index of the top-level statement it sits in."""

    node: ast.expr
    stmt: int


def _stored_names(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class Flow:
    def __init__(self, func: ast.FunctionDef) -> None:
        self.func = func
        self.body = func.body
        self.stores = [_stored_names(s) for s in self.body]

    def definition(self, name: str, before: int) -> At | None:
        """The value `name` holds when statement `before` runs: its last plain assignment above it, or
        None when it was last set some other way (an argument, a loop, a tuple unpacking, an if)."""
        for i in range(before - 1, -1, -1):
            if name not in self.stores[i]:
                continue
            stmt = self.body[i]
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == name
            ):
                return At(stmt.value, i)
            return None
        return None

    def resolve(self, at: At) -> At:
        """Follow a name through plain assignments to the expression that made its value."""
        while isinstance(at.node, ast.Name):
            found = self.definition(at.node.id, at.stmt)
            if found is None:
                return at
            at = found
        return at

    def stable(self, at: At, until: int) -> bool:
        """Whether `at.node` would mean the same if written in statement `until` (no name in it assigned
        again from its own statement on)."""
        names = _loaded_names(at.node)
        return not any(names & self.stores[i] for i in range(at.stmt, until))

    def expressions(self) -> Iterator[At]:
        """Every expression of the top-level statements, outermost first."""
        for i, stmt in enumerate(self.body):
            for node in ast.walk(stmt):
                if isinstance(node, ast.expr):
                    yield At(node, i)


def same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def call_name(node: ast.AST) -> str:
    """`torch.nn.functional.softmax` for a call of it, "" for anything else."""
    return dotted(node.func) if isinstance(node, ast.Call) else ""


def keyword(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if position is not None and position < len(call.args):
        return call.args[position]
    return None


def int_value(node: ast.expr | None) -> int | None:
    """The integer a constant (or a negated constant) stands for."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = int_value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def is_minus_inf(node: ast.expr) -> bool:
    text = ast.unparse(node).replace(" ", "").replace("'", '"')
    return text in {'float("-inf")', '-float("inf")', "-math.inf", "-torch.inf", "float(-math.inf)"}


def remove_dead_assignments(file_text: str, func_name: str, class_name: str | None) -> str:
    """Drop plain `name = expr` statements of one function whose value is never read afterwards, until
    none is left. A statement sharing its line with another, or one whose value calls an in-place
    method (`x.add_(...)`), stays."""
    while True:
        tree = ast.parse(file_text)
        func = find_function(tree, func_name, class_name)
        if func is None:
            return file_text
        dead = _first_dead(func, Offsets(file_text))
        if dead is None:
            return file_text
        offsets = Offsets(file_text)
        start = offsets.starts[dead.lineno - 1]
        end = offsets.starts[dead.end_lineno or dead.lineno]
        file_text = file_text[:start] + file_text[end:]


def _first_dead(func: ast.FunctionDef, offsets: Offsets) -> ast.stmt | None:
    body = func.body
    for i, stmt in enumerate(body):
        if not (
            isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        ):
            continue
        if len(body) == 1 or not _owns_its_lines(stmt, offsets) or _mutates(stmt.value):
            continue
        name = stmt.targets[0].id
        live = False
        for later in body[i + 1 :]:
            if name in _loaded_names(later):
                live = True
                break
            if name in _stored_names(later):
                break
        if not live:
            return stmt
    return None


def _owns_its_lines(stmt: ast.stmt, offsets: Offsets) -> bool:
    first = offsets.lines[stmt.lineno - 1]
    last = offsets.lines[(stmt.end_lineno or stmt.lineno) - 1]
    before = first[: len(first.encode()[: stmt.col_offset].decode(errors="ignore"))]
    end_col = stmt.end_col_offset or 0
    after = last[len(last.encode()[:end_col].decode(errors="ignore")) :]
    return not before.strip() and (not after.strip() or after.strip().startswith("#"))


def _mutates(node: ast.expr) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = dotted(sub.func).rsplit(".", 1)[-1]
            if name == "print" or (name.endswith("_") and not name.startswith("_")):
                return True
    return False


def find_function(tree: ast.Module, func_name: str, class_name: str | None) -> ast.FunctionDef | None:
    scope: list[ast.stmt] = tree.body
    if class_name is not None:
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
        if cls is None:
            return None
        scope = cls.body
    return next((n for n in scope if isinstance(n, ast.FunctionDef) and n.name == func_name), None)


def replace_node(file_text: str, node: ast.expr, text: str) -> str:
    offsets = Offsets(file_text)
    return apply_splices(file_text, [Splice(offsets.start(node), offsets.end(node), text)])


def source_of(file_text: str, node: ast.AST) -> str:
    offsets = Offsets(file_text)
    return file_text[offsets.start(node) : offsets.end(node)]
