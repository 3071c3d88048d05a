"""One function's facts while its top-level statement is read, and what is read of Triton kernels.

`FunctionBuilder` collects a module-level function's (or a method's) launches, host syncs, loops and
allocations as python_statement.py dispatches the statement's query matches to it; `finish` turns it into
the `FunctionFacts` the linker reads. For a `@triton.jit` kernel this module also reads the signature
(parameters, tl.constexpr ones), the tl.* calls (`kernel_call`: tl.load/tl.store masks, atomics,
tl.arange bounds) and adds the kernel's own findings (KW103 unmasked access, KW107 tl.arange span).
"""

from __future__ import annotations

import re

from tree_sitter import Node, QueryCursor

from kernelwright.analysis.imports import Aliases, dotted_name
from kernelwright.analysis.parsing import assign_query, node_text
from kernelwright.analysis.positions import ByteColumns, Span, node_range, node_span
from kernelwright.analysis.python_facts import Flagged, FunctionFacts, Launch, ZerosAlloc
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import Finding, Range

TRITON_JIT = "triton.jit"
TL = "triton.language."


class Place:
    """Where a top-level statement is: ranges of its nodes count from its first line, `base`."""

    def __init__(self, cols: ByteColumns, aliases: Aliases, base: int) -> None:
        self.cols = cols
        self.aliases = aliases
        self.base = base

    def rng(self, node: Node) -> Range:
        return node_range(self.cols, node, self.base)

    def span(self, node: Node) -> Span:
        return node_span(self.cols, node, self.base)


class FunctionBuilder:
    """Collects one function's facts from query matches."""

    __slots__ = (
        "_params",
        "accesses",
        "arange_params",
        "findings",
        "host_allocs",
        "host_syncs",
        "is_kernel",
        "launches",
        "loops",
        "node",
        "outer",
        "parent",
        "read",
        "stored",
        "uses_block_ptr",
        "zeros",
    )

    def __init__(self, node: Node, outer: Node, parent: str | None, is_kernel: bool) -> None:
        self.node = node
        self.outer = outer  # decorated_definition, when decorated
        self.parent = parent
        self.is_kernel = is_kernel
        self.launches: list[Launch] = []
        self.host_syncs: list[Flagged] = []
        self.loops: list[Flagged] = []
        self.host_allocs: list[Flagged] = []
        self.zeros: list[ZerosAlloc] = []
        self.stored: set[str] = set()
        self.read: set[str] = set()
        self.arange_params: set[str] = set()
        self.findings: list[Finding] = []
        self.accesses: list[tuple[Node, Node, bool]] = []  # (call, pointer expr, masked)
        self.uses_block_ptr = False
        self._params: tuple[list[str], set[str]] | None = None

    def collected(self) -> bool:
        """Whether a plain function or method found anything a rule or a site could use."""
        return bool(self.launches or self.host_syncs or self.loops or self.host_allocs or self.zeros)

    def params(self, aliases: Aliases) -> list[str]:
        """Parameter names, read on first use: only kernels and the loop rule need them."""
        if self._params is None:
            self._params = _params(self.node, aliases)
        return self._params[0]

    def constexpr(self, aliases: Aliases) -> set[str]:
        self.params(aliases)
        assert self._params is not None
        return self._params[1]


# `(x_ptr, n, BLOCK: tl.constexpr)`: plain names with optional dotted annotations, nothing else.
_SIMPLE_PARAMS = re.compile(rb"\(\s*(?:[A-Za-z_]\w*(?:\s*:\s*[A-Za-z_][\w.]*)?\s*(?:,\s*|(?=\))))*\)")


def _params(node: Node, aliases: Aliases) -> tuple[list[str], set[str]]:
    """Parameter names, and those annotated tl.constexpr."""
    params = node.child_by_field_name("parameters")
    if params is None:
        return [], set()
    text = params.text or b""
    if not params.has_error and _SIMPLE_PARAMS.fullmatch(text):
        # The common kernel signature, read from its text: no node per parameter.
        names: list[str] = []
        constexpr: set[str] = set()
        for part in text[1:-1].decode("ascii").split(","):
            name, _, annotation = part.partition(":")
            name = name.strip()
            if name:
                names.append(name)
                if annotation and aliases.qualify(annotation.strip()) == TL + "constexpr":
                    constexpr.add(name)
        return names, constexpr
    return params_walk(params, aliases)


def params_walk(params: Node, aliases: Aliases) -> tuple[list[str], set[str]]:
    """`_params` node by node, for any parameter list (defaults, `*args`, comments, subscripted types)."""
    names: list[str] = []
    constexpr: set[str] = set()
    for p in params.named_children:
        ident: Node | None = p if p.type == "identifier" else None
        if ident is None:
            for c in p.named_children:
                if c.type == "identifier":
                    ident = c
                    break
        if ident is None:
            continue
        names.append(node_text(ident))
        type_node = p.child_by_field_name("type")
        if type_node is not None and aliases.qualify(node_text(type_node)) == TL + "constexpr":
            constexpr.add(node_text(ident))
    return names, constexpr


def is_kernel(outer: Node, aliases: Aliases) -> bool:
    """Whether a definition (its decorated_definition, when decorated) is `@triton.jit`."""
    if outer.type != "decorated_definition":
        return False
    for dec in outer.named_children:
        if dec.type != "decorator" or not dec.named_children:
            continue
        expr = dec.named_children[0]
        if expr.type == "call":
            fn = expr.child_by_field_name("function")
            expr = fn if fn is not None else expr
        name = dotted_name(expr)
        if name is not None and aliases.qualify(name) == TRITON_JIT:
            return True
    return False


# Names not preceded by a dot: `x_ptr + offs` -> x_ptr, offs; `tl.arange(0, B)` -> tl, B (not arange).
_NAME = re.compile(rb"(?<![\w.])[A-Za-z_]\w*")
_ARANGE = re.compile(rb"(?<![\w])([A-Za-z_][\w.]*)\s*\(")


def _expr_info(node: Node, aliases: Aliases) -> tuple[frozenset[str], bool]:
    """Names an expression reads, and whether it calls tl.arange.

    Read from the expression's text with regular expressions rather than by walking its nodes: this
    runs on every pointer expression of every kernel, and a walk in Python was the slowest part of a
    first analysis. Names inside string literals count too, which only errs towards masking advice."""
    text = node.text or b""
    idents = frozenset(m.decode("utf-8", "replace") for m in _NAME.findall(text))
    has_arange = b"arange" in text and any(
        aliases.qualify(m.decode("utf-8", "replace")) == TL + "arange" for m in _ARANGE.findall(text)
    )
    return idents, has_arange


def _arguments(args: Node) -> tuple[list[Node], dict[str, Node | None]]:
    """Positional arguments, and keyword -> value (the first, as python_statement's `_kwarg` finds it)."""
    positional: list[Node] = []
    keywords: dict[str, Node | None] = {}
    for a in args.named_children:
        kind = a.type
        if kind == "keyword_argument":
            key = node_text(a.child_by_field_name("name"))
            if key not in keywords:
                keywords[key] = a.child_by_field_name("value")
        elif kind != "comment":
            positional.append(a)
    return positional, keywords


def is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def int_literal(node: Node | None) -> int | None:
    if node is None or node.type != "integer":
        return None
    try:
        return int(node_text(node).replace("_", ""), 0)
    except ValueError:
        return None


def kernel_call(at: Place, b: FunctionBuilder, call: Node, op: str, args: Node) -> None:
    """A `tl.<op>(args)` call inside kernel `b`."""
    pos, keywords = _arguments(args)
    if op in ("load", "store"):
        if not pos:
            return
        idents, _ = _expr_info(pos[0], at.aliases)
        (b.stored if op == "store" else b.read).update(idents.intersection(b.params(at.aliases)))
        masked = (
            keywords.get("mask") is not None
            or keywords.get("boundary_check") is not None
            or len(pos) >= (2 if op == "load" else 3)
        )
        b.accesses.append((call, pos[0], masked))
    elif op.startswith("atomic_") and pos:
        idents, _ = _expr_info(pos[0], at.aliases)
        b.read.update(idents.intersection(b.params(at.aliases)))
    elif op == "make_block_ptr":
        b.uses_block_ptr = True
    elif op == "arange" and len(pos) >= 2:
        lo, hi = int_literal(pos[0]), int_literal(pos[1])
        if lo is not None and hi is not None and not is_pow2(hi - lo):
            b.findings.append(
                finding(
                    RuleId.NON_POW2_BLOCK,
                    at.rng(call),
                    f"tl.arange({lo}, {hi}) spans {hi - lo}, not a power of two: round it up "
                    "to the next power of two and mask the extra lanes",
                    node_text(b.node.child_by_field_name("name")),
                )
            )
        elif pos[1].type == "identifier" and node_text(pos[1]) in b.constexpr(at.aliases):
            b.arange_params.add(node_text(pos[1]))


def finish(at: Place, b: FunctionBuilder) -> FunctionFacts:
    """The facts a builder collected (kernels: with their parameters and own findings)."""
    name_node = b.node.child_by_field_name("name")
    short = node_text(name_node)
    located = b.parent is None or bool(b.launches)
    name = f"{b.parent}.{short}" if b.parent else short
    rng = at.span(b.outer) if located else None
    name_rng = (at.span(name_node) if name_node is not None else at.span(b.node)) if located else None
    if not b.is_kernel:
        # Parameters, accesses and kernel findings are collected for kernels only.
        return FunctionFacts(
            name,
            b.parent,
            rng,
            name_rng,
            False,
            launches=tuple(b.launches),
            host_syncs=tuple(b.host_syncs),
            loops=tuple(b.loops),
            host_allocs=tuple(b.host_allocs),
            zeros=tuple(b.zeros),
        )
    findings = list(b.findings)
    unmasked = [(call, ptr) for call, ptr, masked in b.accesses if not masked]
    if unmasked:
        # Which names derive from tl.arange matters only for an unmasked access, which most kernels
        # do not have: only then are the kernel's assignments read.
        derived = _arange_derived(at, b)
        for call, ptr in unmasked:
            idents, ar = _expr_info(ptr, at.aliases)
            if b.uses_block_ptr and ptr.type == "identifier":
                continue
            if ar or idents & derived:
                op = "tl.store" if "store" in node_text(call.child_by_field_name("function")) else "tl.load"
                findings.append(
                    finding(
                        RuleId.UNMASKED_ACCESS,
                        at.rng(call),
                        f"{op} of a tl.arange block without mask=: unless the grid divides the size "
                        "exactly, the last program goes out of bounds; add mask=offsets < n",
                        short,
                    )
                )
    return FunctionFacts(
        name=name,
        parent=b.parent,
        range=rng,
        name_range=name_rng,
        is_kernel=True,
        params=tuple(b.params(at.aliases)),
        launches=tuple(b.launches),
        host_syncs=tuple(b.host_syncs),
        loops=tuple(b.loops),
        host_allocs=tuple(b.host_allocs),
        zeros=tuple(b.zeros),
        stored=frozenset(b.stored),
        read=frozenset(b.read),
        arange_params=frozenset(b.arange_params),
        kernel_findings=tuple(findings),
    )


def _arange_derived(at: Place, b: FunctionBuilder) -> set[str]:
    """Names a kernel assigns from tl.arange, directly or through other such names."""
    assigns: list[tuple[str, frozenset[str], bool]] = []
    for _, caps in QueryCursor(assign_query()).matches(b.node):
        idents, ar = _expr_info(caps["right"][0], at.aliases)
        assigns.append((node_text(caps["left"][0]), idents, ar))
    derived: set[str] = set()
    changed = True
    while changed:
        changed = False
        for lhs, idents, ar in assigns:
            if lhs not in derived and (ar or idents & derived):
                derived.add(lhs)
                changed = True
    return derived
