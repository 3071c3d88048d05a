"""Small helpers to find and splice Python source by ast positions (which count UTF-8 bytes)."""

from __future__ import annotations

import ast
from dataclasses import dataclass


class Offsets:
    """ast (line, byte column) -> offset into the str."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode()[:col].decode(errors="ignore"))

    def start(self, node: ast.AST) -> int:
        return self.at(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.at(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str


def apply_splices(text: str, splices: list[Splice]) -> str:
    out = text
    for s in sorted(splices, key=lambda s: s.start, reverse=True):
        out = out[: s.start] + s.text + out[s.end :]
    return out


def top_level_function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def top_level_class(tree: ast.Module, name: str) -> ast.ClassDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def int_constant(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def add_module_code(file_text: str, imports: list[str], helpers: list[str]) -> str:
    """`imports` the file lacks, after its own imports, then `helpers` (definitions) after them."""
    tree = ast.parse(file_text)
    have = {ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)}
    missing = [i for i in ["import torch", *imports] if i not in have]
    last_import = max(
        (n.end_lineno or n.lineno for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)), default=0
    )
    if (
        last_import == 0
        and tree.body
        and isinstance(tree.body[0], ast.Expr)
        and isinstance(getattr(tree.body[0], "value", None), ast.Constant)
    ):
        last_import = tree.body[0].end_lineno or 1  # after the docstring
    lines = file_text.splitlines(keepends=True)
    block = "".join(f"{i}\n" for i in missing)
    if helpers:
        block += "".join(f"\n\n{h.strip()}\n" for h in helpers) + "\n"
    if not block:
        return file_text
    head = "".join(lines[:last_import])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + block + "".join(lines[last_import:])
