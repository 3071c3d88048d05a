"""One name per value inside a function, and back, so that rewrites can move reads across statements.

People reuse names (`x = self.gemm(x); x = x + self.bias; return torch.relu(x)`). A rewrite that
replaces the last line with one call on the first line's input needs that input by a name that still
holds it there, so the function is first put in single-assignment form (`x_kw1 = self.gemm(x)`, ...),
rewritten, cleared of dead statements, and then each name is given back its own spelling wherever the
values it held do not overlap in time (`unnumber`); where they do, the later one keeps its number.

Only the function's top-level plain assignments are renamed. A name that is also set any other way
(inside an if or a loop, by `+=`, `global`, `with ... as`) keeps its name throughout: the dataflow
(flow.py) does not follow it either.
"""

from __future__ import annotations

import ast
import re

from kernelwright.optimize.providers.builtin.pysource import Offsets, Splice, apply_splices
from kernelwright.optimize.providers.builtin.rewrites.flow import find_function

_SUFFIX = re.compile(r"^(?P<base>.+)_kw(?P<n>\d+)$")


def _plain_targets(stmt: ast.stmt) -> list[ast.Name] | None:
    """The names a plain assignment binds (`a = ...`, `a, b = ...`), or None for any other statement."""
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return None
    target = stmt.targets[0]
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Tuple | ast.List) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e for e in target.elts if isinstance(e, ast.Name)]
    return None


def _unsafe_names(func: ast.FunctionDef) -> set[str]:
    unsafe: set[str] = set()
    for stmt in func.body:
        plain = _plain_targets(stmt)
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                if plain is None or node not in plain:
                    unsafe.add(node.id)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                unsafe.update(node.names)
            elif isinstance(node, ast.FunctionDef | ast.Lambda | ast.AsyncFunctionDef):
                # A closure reads names when it runs, not where it is written.
                unsafe.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    return unsafe


def number(file_text: str, func_name: str, class_name: str | None) -> str:
    """The file with `func_name`'s top-level reassignments given numbered names."""
    tree = ast.parse(file_text)
    func = find_function(tree, func_name, class_name)
    if func is None:
        return file_text
    unsafe = _unsafe_names(func)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    current: dict[str, str] = {a.arg: a.arg for a in func.args.args + func.args.kwonlyargs}
    for extra in (func.args.vararg, func.args.kwarg):
        if extra is not None:
            current[extra.arg] = extra.arg
    counter = 0
    offsets = Offsets(file_text)
    splices: list[Splice] = []
    for stmt in func.body:
        plain = _plain_targets(stmt) or []
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and current.get(node.id, node.id) != node.id
            ):
                splices.append(Splice(offsets.start(node), offsets.end(node), current[node.id]))
        for target in plain:
            if target.id in unsafe:
                continue
            if target.id not in current:
                current[target.id] = target.id
                continue
            counter += 1
            fresh = f"{target.id}_kw{counter}"
            while fresh in taken:
                counter += 1
                fresh = f"{target.id}_kw{counter}"
            taken.add(fresh)
            current[target.id] = fresh
            splices.append(Splice(offsets.start(target), offsets.end(target), fresh))
    return apply_splices(file_text, splices)


def unnumber(file_text: str, func_name: str, class_name: str | None) -> str:
    """Give numbered names back their own spelling where the values do not overlap in time."""
    tree = ast.parse(file_text)
    func = find_function(tree, func_name, class_name)
    if func is None:
        return file_text
    # For every spelling, the statements where each of its versions is bound and last read.
    spans: dict[str, list[tuple[int, int, str]]] = {}
    params = {a.arg for a in func.args.args + func.args.kwonlyargs}
    names: set[str] = set(params)
    for stmt in func.body:
        names.update(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
    for name in names:
        match = _SUFFIX.match(name)
        base = match.group("base") if match else name
        born = -1 if name in params else _first_store(func, name)
        last = max((i for i, s in enumerate(func.body) if _reads(s, name)), default=born)
        spans.setdefault(base, []).append((born, last, name))
    renames: dict[str, str] = {}
    for base, versions in spans.items():
        versions.sort()
        end = -2
        for born, last, name in versions:
            if born >= end and name != base and _SUFFIX.match(name):
                renames[name] = base
            end = max(end, last)
    if not renames:
        return file_text
    offsets = Offsets(file_text)
    splices = [
        Splice(offsets.start(n), offsets.end(n), renames[n.id])
        for stmt in func.body
        for n in ast.walk(stmt)
        if isinstance(n, ast.Name) and n.id in renames
    ]
    return apply_splices(file_text, splices)


def _first_store(func: ast.FunctionDef, name: str) -> int:
    for i, stmt in enumerate(func.body):
        if any(
            isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(stmt)
        ):
            return i
    return len(func.body)


def _reads(stmt: ast.stmt, name: str) -> bool:
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(stmt)
    )
