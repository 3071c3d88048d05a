"""The first syntax error of a Python file, as the KW002 finding.

tree-sitter never fails: it recovers, wrapping what it could not parse in an ERROR node or inserting a
zero-width MISSING node. The first such node in document order is the error reported (later ones are
often consequences of the first). Finding it descends only into nodes whose `has_error` is set, so a
file without errors costs one attribute read.

Python only: tree-sitter does not run the C preprocessor, so valid CUDA whose macros stand for syntax
(`FOR_EACH(i, n) { ... }`, `DEVICE float f(...)`) parses with errors, and an error finding there would
be a false alarm.
"""

from __future__ import annotations

from tree_sitter import Node

from kernelwright.analysis.positions import ByteColumns
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import Finding, Range

_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_SNIPPET = 40  # characters of the unparsed text quoted in the message


def first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node, in document order."""
    if not root.has_error:
        return None
    node = root
    while not (node.is_error or node.is_missing):
        for child in node.children:
            if child.has_error:  # true of ERROR and MISSING nodes themselves
                node = child
                break
        else:
            return node  # has_error with no erroneous child: not expected, but report where it is
    return node


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _describe(node: Node, snippet: str) -> str:
    if node.is_missing:
        return f"missing `{node.type}`" if not node.is_named else f"missing {node.type.replace('_', ' ')}"
    unclosed: list[Node] = []
    for child in node.children:
        if child.type in _CLOSERS:
            unclosed.append(child)
        elif unclosed and child.type == _CLOSERS[unclosed[-1].type]:
            unclosed.pop()
    if unclosed:
        return f"`{unclosed[-1].type}` is never closed"
    if len(node.children) <= 1 and all(c.child_count == 0 for c in node.children):
        return f"unexpected `{snippet}`"
    return f"cannot parse `{snippet}`"


def syntax_error(root: Node, source: bytes, cols: ByteColumns) -> Finding | None:
    """KW002 at the first error tree-sitter reports; None for a file that parses."""
    node = first_error(root)
    if node is None:
        return None
    start = node.start_point
    # The range stays on the error's first line: an ERROR node can swallow the rest of the file.
    line_end = source.find(b"\n", node.start_byte)
    end_byte = min(node.end_byte, line_end if line_end >= 0 else len(source))
    while end_byte > node.start_byte and source[end_byte - 1] in b" \t\r":
        end_byte -= 1
    text = _printable(source[node.start_byte : end_byte].decode("utf-8", "replace"))
    snippet = text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"
    rng = Range(
        cols.position(start.row, start.column, node.start_byte),
        cols.position(start.row, start.column + end_byte - node.start_byte, end_byte),
    )
    return finding(RuleId.SYNTAX_ERROR, rng, f"syntax error: {_describe(node, snippet)}")
