"""What the names of a Python file stand for: `tnn.Module` -> `torch.nn.Module`, `tr.jit` -> `triton.jit`.

Only module-level imports count. Names the file does not bind fall back to the usual conventions
(`tl` is triton.language, `nn` is torch.nn, `F` is torch.nn.functional), so snippets without their
imports are still understood.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from tree_sitter import Node

from kernelwright.analysis.parsing import node_text

_DEFAULTS = {
    "torch": "torch",
    "triton": "triton",
    "tl": "triton.language",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
}


@dataclass(frozen=True)
class Aliases:
    """Local name -> dotted path it is bound to by an import. Hashable: it keys the per-definition cache."""

    bindings: tuple[tuple[str, str], ...] = ()

    @cached_property
    def _map(self) -> dict[str, str]:
        return {**_DEFAULTS, **dict(self.bindings)}

    def extra_call_names(self, interesting: Sequence[str]) -> tuple[str, ...]:
        """Local names bound to an interesting function under another name (`load_inline as li`)."""
        wanted = set(interesting)
        return tuple(
            sorted(
                local
                for local, target in self.bindings
                if target.rpartition(".")[2] in wanted and local not in wanted
            )
        )

    def qualify(self, dotted: str) -> str:
        """`tnn.Module` -> `torch.nn.Module`; unknown heads stay as written."""
        head, dot, rest = dotted.partition(".")
        target = self._map.get(head)
        if target is None:
            return dotted
        return target + dot + rest


# Text that can only be an identifier/attribute chain, unless its head is a literal keyword.
_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_LITERAL_HEADS = frozenset((b"None", b"True", b"False"))


def dotted_name(node: Node) -> str | None:
    """`a.b.c` for identifier/attribute chains; None for anything else (calls, subscripts, ...)."""
    if node.type == "attribute" or node.type == "identifier":
        # Fast path: read the chain from its text when the text has no room for anything else; it
        # runs on every interesting call of a file, and walking the chain costs a node per part.
        text = node.text or b""
        if _DOTTED.fullmatch(text) and text.partition(b".")[0] not in _LITERAL_HEADS and not node.has_error:
            return text.decode("ascii")
    return dotted_name_walk(node)


def dotted_name_walk(node: Node) -> str | None:
    """`dotted_name` by walking the chain node by node (any text: comments, line breaks, non-ASCII)."""
    parts: list[str] = []
    while node.type == "attribute":
        attr = node.child_by_field_name("attribute")
        obj = node.child_by_field_name("object")
        if attr is None or obj is None:
            return None
        parts.append(node_text(attr))
        node = obj
    if node.type != "identifier":
        return None
    parts.append(node_text(node))
    return ".".join(reversed(parts))


def import_bindings(stmt: Node) -> list[tuple[str, str]]:
    """The (local name, dotted target) pairs that one import statement binds."""
    out: list[tuple[str, str]] = []
    if stmt.type == "import_statement":
        for child in stmt.named_children:
            if child.type == "dotted_name":
                full = node_text(child)
                head = full.split(".")[0]
                out.append((head, head))
            elif child.type == "aliased_import":
                name = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out.append((node_text(alias), node_text(name)))
    elif stmt.type == "import_from_statement":
        module = stmt.child_by_field_name("module_name")
        if module is None or module.type != "dotted_name":
            return out  # relative imports: not torch or triton
        base = node_text(module)
        for child in stmt.children_by_field_name("name"):
            if child.type == "dotted_name":
                imported = node_text(child)
                out.append((imported.split(".")[0], f"{base}.{imported}"))
            elif child.type == "aliased_import":
                name_node = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if name_node is not None and alias is not None:
                    out.append((node_text(alias), f"{base}.{node_text(name_node)}"))
    return out
