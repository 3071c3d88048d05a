"""Python files: torch modules, Triton kernels and launchers, bench directives, inline CUDA, findings.

Two phases. `statement_facts` reads ONE top-level statement into facts whose lines count from the
statement's first line; it depends only on the statement's text (from the start of its first line) and
the file's import aliases, so incremental re-analysis caches it by that key. `link` then combines the
facts of all statements: which classes are Modules, which functions launch which kernels, where the
directives point, and which candidate findings apply where. Linking is cheap: no tree walks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from tree_sitter import Node, Query, QueryCursor

from kernelwright.analysis import cuda
from kernelwright.analysis.directives import CommentLine, function_spec, is_directive, parse_directive
from kernelwright.analysis.imports import Aliases, dotted_name, import_bindings
from kernelwright.analysis.parsing import INTERESTING_CALLS, assign_query, python_query
from kernelwright.analysis.positions import (
    ByteColumns,
    Span,
    node_range,
    node_span,
    shift,
    span_range,
    to_range,
)
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import (
    BenchSpec,
    Finding,
    FunctionSpec,
    Language,
    ModuleSpec,
    Position,
    Range,
    Site,
    SiteKind,
)

MODULE_BASE = "torch.nn.Module"
TRITON_JIT = "triton.jit"
TL = "triton.language."
LOAD_INLINE = "torch.utils.cpp_extension.load_inline"
HOST_SYNC_METHODS = ("item", "cpu", "tolist", "numpy")
ALLOCATORS = frozenset(
    f"torch.{n}"
    for n in ("zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "tensor", "eye")
)
ZEROS = {"torch.zeros": "empty", "torch.zeros_like": "empty_like"}


@dataclass(frozen=True, slots=True)
class Flagged:
    """A place a rule may fire, if linking decides the enclosing function is one the rule is about."""

    what: str
    range: Range


@dataclass(frozen=True, slots=True)
class Launch:
    """`kernel[grid](args...)`."""

    kernel: str
    args: tuple[str | None, ...]  # positional arguments that are plain names
    kwargs: tuple[tuple[str, str | None], ...]  # keyword -> plain name
    # keyword -> integer literal that is not a power of two: the only block sizes a rule can flag
    int_kwargs: tuple[tuple[str, int, Range], ...]


@dataclass(frozen=True, slots=True)
class ZerosAlloc:
    var: str
    range: Range  # the callee, e.g. `torch.zeros`
    fix: str  # the callee with zeros -> empty


# The three records below are NamedTuples rather than frozen dataclasses: a first analysis builds one
# per definition and statement (thousands), and a frozen dataclass's __init__ costs several times more.
class FunctionFacts(NamedTuple):
    name: str  # `f`, or `Class.method`
    parent: str | None
    # Relative spans (a Range is built only for a site). None for a method that launches nothing: it
    # can never be a site, and nothing else reads them.
    range: Span | None
    name_range: Span | None
    is_kernel: bool
    params: tuple[str, ...] = ()  # kernels only: launch arguments map to them (zeros-for-output rule)
    launches: tuple[Launch, ...] = ()
    host_syncs: tuple[Flagged, ...] = ()
    loops: tuple[Flagged, ...] = ()
    host_allocs: tuple[Flagged, ...] = ()
    zeros: tuple[ZerosAlloc, ...] = ()
    stored: frozenset[str] = frozenset()  # kernel params written through tl.store
    read: frozenset[str] = frozenset()  # kernel params read (tl.load) or updated atomically
    arange_params: frozenset[str] = frozenset()  # constexpr params used as a tl.arange bound
    kernel_findings: tuple[Finding, ...] = ()


class ClassFacts(NamedTuple):
    name: str
    range: Span
    name_range: Span
    bases: tuple[str, ...]  # qualified


@dataclass(frozen=True, slots=True)
class InlineCall:
    """A load_inline call: the names and literals its cuda_sources refers to."""

    names: tuple[str, ...]
    literals: tuple[cuda.Translated, ...]


class StatementFacts(NamedTuple):
    names: tuple[str, ...] = ()
    bindings: tuple[tuple[str, str], ...] = ()
    functions: tuple[FunctionFacts, ...] = ()
    classes: tuple[ClassFacts, ...] = ()
    sources: tuple[tuple[str, cuda.Translated], ...] = ()  # module-level name -> CUDA in its string(s)
    inline_calls: tuple[InlineCall, ...] = ()
    directives: tuple[CommentLine, ...] = ()


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


_NO_FACTS = StatementFacts()


def top_level_aliases(root: Node) -> Aliases:
    pairs: list[tuple[str, str]] = []
    for child in root.named_children:
        if child.type in ("import_statement", "import_from_statement"):
            pairs += import_bindings(child)
    return Aliases(tuple(pairs))


class _Builder:
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
        names.append(_text(ident))
        type_node = p.child_by_field_name("type")
        if type_node is not None and aliases.qualify(_text(type_node)) == TL + "constexpr":
            constexpr.add(_text(ident))
    return names, constexpr


def _is_kernel(outer: Node, aliases: Aliases) -> bool:
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


def _kwarg(args: Node, name: str) -> Node | None:
    for a in args.named_children:
        if a.type == "keyword_argument" and _text(a.child_by_field_name("name")) == name:
            return a.child_by_field_name("value")
    return None


def _arguments(args: Node) -> tuple[list[Node], dict[str, Node | None]]:
    """Positional arguments, and keyword -> value (the first, as `_kwarg` finds it), in one pass."""
    positional: list[Node] = []
    keywords: dict[str, Node | None] = {}
    for a in args.named_children:
        kind = a.type
        if kind == "keyword_argument":
            key = _text(a.child_by_field_name("name"))
            if key not in keywords:
                keywords[key] = a.child_by_field_name("value")
        elif kind != "comment":
            positional.append(a)
    return positional, keywords


def _positional(args: Node) -> list[Node]:
    return [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _int_literal(node: Node | None) -> int | None:
    if node is None or node.type != "integer":
        return None
    try:
        return int(_text(node).replace("_", ""), 0)
    except ValueError:
        return None


class _Statement:
    """Reads one top-level statement."""

    def __init__(self, top: Node, cols: ByteColumns, aliases: Aliases, source: bytes) -> None:
        self.top = top
        self.cols = cols
        self.aliases = aliases
        self.source = source
        self.base = top.start_point.row

    def rng(self, node: Node) -> Range:
        return node_range(self.cols, node, self.base)

    def span(self, node: Node) -> Span:
        return node_span(self.cols, node, self.base)

    def facts(self, matches: list[tuple[int, dict[str, list[Node]]]] | None = None) -> StatementFacts:
        top = self.top
        aliases = self.aliases
        names: list[str] = []
        bindings: list[tuple[str, str]] = []
        if top.type in ("import_statement", "import_from_statement"):
            bindings = import_bindings(top)
            names = [b[0] for b in bindings]
        if top.type == "comment":
            return self._comment_only(top)
        if bindings:
            return StatementFacts(names=tuple(names), bindings=tuple(bindings))
        if matches is None:
            matches = QueryCursor(query_for(self.aliases, top.text or b"")).matches(top)
        builders, classes = self._definitions(methods=bool(matches))
        directives: list[CommentLine] = []
        strings: list[Node] = []
        starts = [b.node.start_byte for b in builders]
        owner: Callable[[Node], _Builder | None] = lambda n: self._owner(builders, starts, n)  # noqa: E731
        inline_calls: list[InlineCall] = []
        for _, caps in matches:
            if "call" in caps:
                call = caps["call"][0]
                inline = self._call(owner(call), call, caps["callee"][0], caps["args"][0])
                if inline is not None:
                    inline_calls.append(inline)
            elif "for" in caps:
                b = owner(caps["for"][0])
                if b is not None:
                    self._loop(b, caps["for"][0], caps["for.right"][0])
            elif "f64" in caps:
                attr = caps["f64"][0].parent
                b = owner(caps["f64"][0])
                if (
                    attr is not None
                    and b is not None
                    and b.is_kernel
                    and aliases.qualify(dotted_name(attr) or "") == TL + "float64"
                ):
                    b.findings.append(
                        finding(
                            RuleId.FLOAT64_IN_KERNEL,
                            self.rng(attr),
                            "tl.float64 in a Triton kernel: fp64 runs far slower; use tl.float32 "
                            "unless the algorithm needs double precision",
                            _text(b.node.child_by_field_name("name")),
                        )
                    )
            elif "comment" in caps:
                node = caps["comment"][0]
                text = _text(node)
                if is_directive(text):
                    s = node.start_point
                    directives.append(
                        CommentLine(text, self.cols.position(s.row, s.column, node.start_byte, self.base))
                    )
            elif "string" in caps:
                strings.append(caps["string"][0])
        # A method that collected nothing can be no site and flag nothing: it is left out of the facts.
        functions = tuple(self._finish(b) for b in builders if b.parent is None or b.collected())
        sources: list[tuple[str, cuda.Translated]] = []
        if top.type == "expression_statement" and top.named_children:
            assign = top.named_children[0]
            if assign.type == "assignment":
                left = assign.child_by_field_name("left")
                right = assign.child_by_field_name("right")
                names += self._targets(left)
                if left is not None and left.type == "identifier" and right is not None:
                    for lit in strings:
                        if lit.start_byte >= right.start_byte and lit.end_byte <= right.end_byte:
                            tr = self._inline(lit, _text(left))
                            if tr is not None:
                                sources.append((_text(left), tr))
        elif top.type in ("function_definition", "class_definition", "decorated_definition"):
            inner = top.child_by_field_name("definition") if top.type == "decorated_definition" else top
            if inner is not None:
                names.append(_text(inner.child_by_field_name("name")))
        return StatementFacts(
            names=tuple(n for n in names if n),
            bindings=tuple(bindings),
            functions=functions,
            classes=tuple(classes),
            sources=tuple(sources),
            inline_calls=tuple(inline_calls),
            directives=tuple(directives),
        )

    def _comment_only(self, top: Node) -> StatementFacts:
        text = _text(top)
        if not is_directive(text):
            return _NO_FACTS
        s = top.start_point
        start = self.cols.position(s.row, s.column, top.start_byte, self.base)
        return StatementFacts(directives=(CommentLine(text, start),))

    def _targets(self, left: Node | None) -> list[str]:
        if left is None:
            return []
        if left.type == "identifier":
            return [_text(left)]
        if left.type in ("pattern_list", "tuple_pattern"):
            return [_text(c) for c in left.named_children if c.type == "identifier"]
        return []

    @staticmethod
    def _owner(builders: list[_Builder], starts: list[int], node: Node) -> _Builder | None:
        i = bisect.bisect_right(starts, node.start_byte) - 1
        while i >= 0:
            b = builders[i]
            if b.node.end_byte >= node.end_byte:
                return b
            i -= 1
        return None

    def _definitions(self, methods: bool = True) -> tuple[list[_Builder], list[ClassFacts]]:
        """The defs that can be sites (module level, or methods of a module-level class) and the class.

        Read from the statement's own children rather than found by the query: only these two levels
        matter, and a def nested anywhere else belongs to the function or method around it. Without
        `methods` (no query match in the statement), a class's methods are not read: they would collect
        nothing."""
        top = self.top
        inner = top.child_by_field_name("definition") if top.type == "decorated_definition" else top
        if inner is None:
            return [], []
        if inner.type == "function_definition":
            return [_Builder(inner, top, None, _is_kernel(top, self.aliases))], []
        if inner.type != "class_definition":
            return [], []
        c = self._class(inner, top)
        parent = _text(inner.child_by_field_name("name"))
        builders: list[_Builder] = []
        body = inner.child_by_field_name("body")
        for child in body.named_children if methods and body is not None and body.type == "block" else ():
            if child.type == "function_definition":
                builders.append(_Builder(child, child, parent, False))
            elif child.type == "decorated_definition":
                node = child.child_by_field_name("definition")
                if node is not None and node.type == "function_definition":
                    builders.append(_Builder(node, child, parent, False))
        return builders, [c] if c is not None else []

    def _class(self, node: Node, outer: Node) -> ClassFacts | None:
        name = node.child_by_field_name("name")
        if name is None:
            return None
        bases: list[str] = []
        supers = node.child_by_field_name("superclasses")
        if supers is not None:
            for b in supers.named_children:
                dn = dotted_name(b)
                if dn is not None:
                    bases.append(self.aliases.qualify(dn))
        return ClassFacts(_text(name), self.span(outer), self.span(name), tuple(bases))

    def _call(self, b: _Builder | None, call: Node, callee: Node, args: Node) -> InlineCall | None:
        aliases = self.aliases
        if callee.type == "subscript":
            value = callee.child_by_field_name("value")
            if b is not None and value is not None and value.type == "identifier":
                self._launch(b, call, _text(value), args)
            return None
        name = dotted_name(callee)
        if b is not None and callee.type == "attribute":
            method = name.rpartition(".")[2] if name else _text(callee.child_by_field_name("attribute"))
            if method in HOST_SYNC_METHODS and not _positional(args) and name != "torch.cpu":
                b.host_syncs.append(Flagged(f"`.{method}()`", self.rng(call)))
        if name is None:
            return None
        qual = aliases.qualify(name)
        if qual == LOAD_INLINE or (qual.endswith(".load_inline") and "cpp_extension" in qual):
            return self._load_inline(args)
        if b is None:
            return None
        short = name.rpartition(".")[2]
        if qual == "torch.cuda.synchronize":
            b.host_syncs.append(Flagged("`torch.cuda.synchronize()`", self.rng(call)))
        elif qual in ALLOCATORS and _kwarg(args, "device") is None:
            b.host_allocs.append(Flagged(f"`{name}(...)`", self.rng(call)))
        if qual in ZEROS:
            parent = call.parent
            if parent is not None and parent.type == "assignment":
                left = parent.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    fixed = name[: -len(short)] + ZEROS[qual]
                    b.zeros.append(ZerosAlloc(_text(left), self.rng(callee), fixed))
        if b.is_kernel and qual.startswith(TL):
            self._kernel_call(b, call, qual[len(TL) :], args)
        return None

    def _launch(self, b: _Builder, call: Node, kernel: str, args: Node) -> None:
        positional: list[str | None] = []
        kwargs: list[tuple[str, str | None]] = []
        ints: list[tuple[str, int, Range]] = []
        for a in args.named_children:
            kind = a.type
            if kind != "keyword_argument":
                if kind != "comment":
                    positional.append(_text(a) if kind == "identifier" else None)
                continue
            key = _text(a.child_by_field_name("name"))
            value = a.child_by_field_name("value")
            kwargs.append((key, _text(value) if value is not None and value.type == "identifier" else None))
            literal = _int_literal(value)
            if literal is not None and value is not None and not _is_pow2(literal):
                ints.append((key, literal, self.rng(value)))
        b.launches.append(Launch(kernel, tuple(positional), tuple(kwargs), tuple(ints)))

    def _kernel_call(self, b: _Builder, call: Node, op: str, args: Node) -> None:
        pos, keywords = _arguments(args)
        if op in ("load", "store"):
            if not pos:
                return
            idents, _ = _expr_info(pos[0], self.aliases)
            (b.stored if op == "store" else b.read).update(idents.intersection(b.params(self.aliases)))
            masked = (
                keywords.get("mask") is not None
                or keywords.get("boundary_check") is not None
                or len(pos) >= (2 if op == "load" else 3)
            )
            b.accesses.append((call, pos[0], masked))
        elif op.startswith("atomic_") and pos:
            idents, _ = _expr_info(pos[0], self.aliases)
            b.read.update(idents.intersection(b.params(self.aliases)))
        elif op == "make_block_ptr":
            b.uses_block_ptr = True
        elif op == "arange" and len(pos) >= 2:
            lo, hi = _int_literal(pos[0]), _int_literal(pos[1])
            if lo is not None and hi is not None and not _is_pow2(hi - lo):
                b.findings.append(
                    finding(
                        RuleId.NON_POW2_BLOCK,
                        self.rng(call),
                        f"tl.arange({lo}, {hi}) spans {hi - lo}, not a power of two: round it up "
                        "to the next power of two and mask the extra lanes",
                        _text(b.node.child_by_field_name("name")),
                    )
                )
            elif pos[1].type == "identifier" and _text(pos[1]) in b.constexpr(self.aliases):
                b.arange_params.add(_text(pos[1]))

    def _loop(self, b: _Builder, node: Node, right: Node) -> None:
        header = span_range(self.cols, node, right, self.base)
        if right.type == "identifier" and b.parent is not None and _text(right) in b.params(self.aliases)[1:]:
            b.loops.append(Flagged(f"iterates over the tensor `{_text(right)}` row by row", header))
        elif right.type == "call" and _text(right.child_by_field_name("function")) == "range":
            inner = _text(right.child_by_field_name("arguments"))
            if any(tok in inner for tok in (".shape", ".size(", "len(", ".numel(")):
                b.loops.append(Flagged(f"loops over `{_text(right)}`, a tensor dimension", header))

    def _finish(self, b: _Builder) -> FunctionFacts:
        name_node = b.node.child_by_field_name("name")
        short = _text(name_node)
        located = b.parent is None or bool(b.launches)
        name = f"{b.parent}.{short}" if b.parent else short
        rng = self.span(b.outer) if located else None
        name_rng = (self.span(name_node) if name_node is not None else self.span(b.node)) if located else None
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
            derived = self._arange_derived(b)
            for call, ptr in unmasked:
                idents, ar = _expr_info(ptr, self.aliases)
                if b.uses_block_ptr and ptr.type == "identifier":
                    continue
                if ar or idents & derived:
                    op = "tl.store" if "store" in _text(call.child_by_field_name("function")) else "tl.load"
                    findings.append(
                        finding(
                            RuleId.UNMASKED_ACCESS,
                            self.rng(call),
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
            params=tuple(b.params(self.aliases)),
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

    def _arange_derived(self, b: _Builder) -> set[str]:
        """Names a kernel assigns from tl.arange, directly or through other such names."""
        assigns: list[tuple[str, frozenset[str], bool]] = []
        for _, caps in QueryCursor(assign_query()).matches(b.node):
            idents, ar = _expr_info(caps["right"][0], self.aliases)
            assigns.append((_text(caps["left"][0]), idents, ar))
        derived: set[str] = set()
        changed = True
        while changed:
            changed = False
            for lhs, idents, ar in assigns:
                if lhs not in derived and (ar or idents & derived):
                    derived.add(lhs)
                    changed = True
        return derived

    def _load_inline(self, args: Node) -> InlineCall:
        value = _kwarg(args, "cuda_sources")
        names: list[str] = []
        literals: list[cuda.Translated] = []
        if value is not None:
            stack = [value]
            while stack:
                n = stack.pop()
                if n.type == "identifier":
                    names.append(_text(n))
                elif n.type == "string":
                    tr = self._inline(n, "load_inline")
                    if tr is not None:
                        literals.append(tr)
                elif n.type in (
                    "list",
                    "tuple",
                    "binary_operator",
                    "parenthesized_expression",
                    "concatenated_string",
                ):
                    stack.extend(reversed(n.named_children))
        return InlineCall(tuple(names), tuple(literals))

    def _inline(self, string: Node, container: str) -> cuda.Translated | None:
        """CUDA in a string literal, analysed, with ranges moved into the Python file."""
        first = string.children[0] if string.children else None
        last = string.children[-1] if string.children else None
        if first is None or last is None or first.type != "string_start" or last.type != "string_end":
            return None
        if b"f" in (first.text or b"").lower():
            return None  # an f-string's text is not the source the compiler sees
        content = self.source[first.end_byte : last.start_byte]
        if b"__global__" not in content and b"__device__" not in content:
            return None
        e = first.end_point
        origin = self.cols.position(e.row, e.column, first.end_byte, self.base)
        return cuda.translate(cuda.analyze_cuda(content, SiteKind.INLINE_CUDA_KERNEL, container), origin)


def query_for(aliases: Aliases, text: bytes) -> Query:
    """The query for `text` (a file or one statement) under the file's import aliases."""
    return python_query(
        aliases.extra_call_names(INTERESTING_CALLS),
        float64=b"float64" in text,
        cuda_strings=b"__global__" in text or b"__device__" in text,
    )


def statement_facts(
    top: Node,
    cols: ByteColumns,
    aliases: Aliases,
    source: bytes,
    matches: list[tuple[int, dict[str, list[Node]]]] | None = None,
) -> StatementFacts:
    """Facts of one top-level statement; `matches` are the query's matches inside it, when known."""
    if top.type == "comment" and b"kernelwright" not in source[top.start_byte : top.end_byte]:
        return _NO_FACTS  # not a directive, as most top-level comments are: nothing to read
    return _Statement(top, cols, aliases, source).facts(matches)


@dataclass
class _Linked:
    sites: list[Site] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def link(
    statements: Sequence[StatementFacts], bases: Sequence[int], path: str, memo: SiteMemo | None = None
) -> tuple[list[Site], list[Finding]]:
    """Combine per-statement facts (with each statement's current first line) into sites and findings."""
    if memo is None:
        memo = SiteMemo()
    memo.next_run()
    out = _Linked()
    # One pass over the statements collects what the later steps need.
    module_names: set[str] = set()
    # Module classes, in file order: a class is a Module if a base is nn.Module or an earlier Module class.
    module_classes: set[str] = set()
    classes: list[tuple[ClassFacts, int]] = []
    functions: list[tuple[FunctionFacts, int]] = []
    directives: list[tuple[CommentLine, int]] = []
    # Directives target the definition whose first line (decorators included) is the next line; where a
    # class and a function claim one row, the function wins.
    class_rows: dict[int, tuple[str, bool]] = {}
    function_rows: dict[int, tuple[str, bool]] = {}
    has_inline = False
    for st, base in zip(statements, bases, strict=True):
        if st is _NO_FACTS:
            continue  # most top-level comments
        module_names.update(st.names)
        for c in st.classes:
            if MODULE_BASE in c.bases or not module_classes.isdisjoint(c.bases):
                module_classes.add(c.name)
            classes.append((c, base))
            class_rows[c.range[0] + base] = (c.name, True)
        for f in st.functions:
            functions.append((f, base))
            if f.range is not None and f.parent is None:
                function_rows[f.range[0] + base] = (f.name, False)
        if st.directives:
            directives += [(line, base) for line in st.directives]
        has_inline = has_inline or bool(st.inline_calls or st.sources)
    by_row = {**class_rows, **function_rows}
    kernels = {f.name: f for f, _ in functions if f.is_kernel}
    launchers: dict[str, list[str]] = {}
    callers: dict[str, list[str]] = {k: [] for k in kernels}
    for f, _ in functions:
        for launch in f.launches:
            if launch.kernel in kernels:
                if launch.kernel not in launchers.setdefault(f.name, []):
                    launchers[f.name].append(launch.kernel)
                if f.name not in callers[launch.kernel]:
                    callers[launch.kernel].append(f.name)
    specs: dict[str, BenchSpec] = {}
    names = frozenset(module_names)
    for line, base in directives:
        row = line.start.line + base
        target = by_row.get(row + 1)
        name = target[0] if target else None
        fspec, errors, whole = _cached_function_spec(line.text, line.start.character, name, names)
        if name is None or name in kernels:
            where = (
                "a bench directive must be on the line directly above a module-level def or class "
                "(or above its decorators)"
                if name is None
                else f"`{name}` is a Triton kernel, which needs a grid to run: put the directive on the "
                "Python function that launches it"
            )
            out.findings.append(finding(RuleId.MALFORMED_DIRECTIVE, shift(whole, row), where, name))
            continue
        out.findings += [replace(e, range=shift(e.range, row)) for e in errors]
        if fspec is not None:
            specs[name] = fspec
    has_inputs = "get_inputs" in module_names
    init = "get_init_inputs" if "get_init_inputs" in module_names else None
    for c, base in classes:
        spec: BenchSpec | None = specs.get(c.name)
        if c.name in module_classes:
            if spec is None and has_inputs and c.name in ("Model", "ModelNew"):
                spec = ModuleSpec(
                    model=c.name,
                    init=init,
                    cpu_inputs="get_cpu_inputs" if "get_cpu_inputs" in module_names else None,
                    cpu_init="get_cpu_init_inputs" if "get_cpu_init_inputs" in module_names else None,
                )
            kind = SiteKind.TORCH_MODULE
        elif spec is not None:
            kind = SiteKind.BENCH_CLASS
        else:
            continue
        out.sites.append(memo.site(kind, c.name, c.range, c.name_range, base, spec))
    for f, base in functions:
        spec = specs.get(f.name)
        rng, name_rng = f.range, f.name_range
        if f.is_kernel:
            out.findings += [replace(x, range=shift(x.range, base)) for x in f.kernel_findings]
        if rng is None or name_rng is None:
            pass  # a method that launches nothing: never a site
        elif f.is_kernel:
            out.sites.append(
                memo.site(SiteKind.TRITON_KERNEL, f.name, rng, name_rng, base, None, callers[f.name])
            )
        elif f.name in launchers:
            out.sites.append(
                memo.site(
                    SiteKind.TRITON_LAUNCHER, f.name, rng, name_rng, base, spec, launchers[f.name], f.parent
                )
            )
        elif spec is not None:
            out.sites.append(memo.site(SiteKind.TORCH_FUNCTION, f.name, rng, name_rng, base, spec))
        _function_findings(out, f, base, f.name in launchers, spec is not None, module_classes, kernels)
    if has_inline:
        _inline_cuda(out, statements, bases)
    out.sites.sort(key=lambda s: (s.range.start.line, s.range.start.character, s.name))
    out.findings.sort(key=lambda x: (x.range.start.line, x.range.start.character, x.rule))
    return out.sites, out.findings


def _cached_function_spec(
    text: str, column: int, site: str | None, names: frozenset[str]
) -> tuple[FunctionSpec | None, tuple[Finding, ...], Range]:
    """A one-line directive read at line 0: unchanged directives are not re-read on every keystroke."""
    spec, errors, whole = _read_function_directive(text, column, site is not None, names)
    if site is not None and errors:
        errors = tuple(replace(e, site=site) for e in errors)
    return spec, errors, whole


@lru_cache(maxsize=4096)
def _read_function_directive(
    text: str, column: int, targeted: bool, names: frozenset[str]
) -> tuple[FunctionSpec | None, tuple[Finding, ...], Range]:
    """What a directive says, whichever function it is above: copies of one directive are read once.

    Findings name no site here (no message mentions it); the caller puts the function's name in."""
    directive = parse_directive([CommentLine(text, Position(0, column))])
    if not targeted:
        return None, (), directive.range
    spec, errors = function_spec(directive, names, "")
    return spec, tuple(replace(e, site=None) for e in errors), directive.range


def clear_caches() -> None:
    _read_function_directive.cache_clear()


class SiteMemo:
    """Sites built by the last run, reused when nothing about them changed (most of them, per keystroke).

    Keyed by the identity of the cached statement facts' ranges, so a hit costs a dict lookup instead of
    four frozen dataclasses; entries not used by a run are dropped at the next one."""

    def __init__(self) -> None:
        self._old: dict[tuple[object, ...], tuple[Span, Site]] = {}
        self._new: dict[tuple[object, ...], tuple[Span, Site]] = {}

    def next_run(self) -> None:
        self._old, self._new = self._new, {}

    def site(
        self,
        kind: SiteKind,
        name: str,
        rng: Span,
        name_rng: Span,
        base: int,
        spec: BenchSpec | None,
        links: Sequence[str] = (),
        parent: str | None = None,
    ) -> Site:
        key = (id(rng), base, kind, name, spec, tuple(links), parent)
        # The same key cannot come twice in one run (a statement's base is its own), so only the last
        # run's sites are looked up.
        hit = self._old.get(key) if self._old else None
        if hit is None or hit[0] is not rng:
            built = Site(
                kind=kind,
                name=name,
                language=Language.PYTHON,
                range=to_range(rng, base),
                name_range=to_range(name_rng, base),
                spec=spec,
                links=tuple(links),
                parent=parent,
            )
            hit = (rng, built)
        self._new[key] = hit
        return hit[1]


def _function_findings(
    out: _Linked,
    f: FunctionFacts,
    base: int,
    is_launcher: bool,
    is_benched: bool,
    module_classes: set[str],
    kernels: dict[str, FunctionFacts],
) -> None:
    if not (f.host_syncs or f.loops or f.host_allocs or f.launches):
        return  # nothing any rule below could flag (most functions)
    is_forward = f.parent in module_classes and f.name.endswith(".forward")
    where = "forward" if is_forward else "launcher" if is_launcher else "benchmarked function"
    if is_forward or is_launcher or is_benched:
        for h in f.host_syncs:
            out.findings.append(
                finding(
                    RuleId.HOST_SYNC,
                    shift(h.range, base),
                    f"{h.what} in a {where} waits for the GPU to finish: keep the value on the device "
                    "(tensor ops) or move the check out of the hot path",
                    f.name,
                )
            )
    if is_forward or is_benched:
        for loop in f.loops:
            out.findings.append(
                finding(
                    RuleId.PYTHON_LOOP,
                    shift(loop.range, base),
                    f"this Python loop {loop.what}: each iteration launches kernels; vectorise it "
                    "(batched tensor ops) or write one kernel",
                    f.name,
                )
            )
    if is_forward or is_launcher:
        for a in f.host_allocs:
            out.findings.append(
                finding(
                    RuleId.HOST_ALLOCATION,
                    shift(a.range, base),
                    f"{a.what} without device= builds the tensor on the CPU every call: pass "
                    "device=<input>.device",
                    f.name,
                )
            )
    if is_launcher:
        for z in f.zeros:
            for launch in f.launches:
                k = kernels.get(launch.kernel)
                if k is None:
                    continue
                params = [k.params[i] for i, a in enumerate(launch.args) if a == z.var and i < len(k.params)]
                params += [key for key, a in launch.kwargs if a == z.var]
                if any(p in k.stored and p not in k.read for p in params):
                    out.findings.append(
                        finding(
                            RuleId.ZEROS_FOR_OUTPUT,
                            shift(z.range, base),
                            f"`{z.var}` is zero-filled, then `{k.name}` overwrites it: use {z.fix} and save "
                            "a full pass over memory",
                            f.name,
                            z.fix,
                        )
                    )
                    break
        for launch in f.launches:
            k = kernels.get(launch.kernel)
            if k is None:
                continue
            for key, value, rng in launch.int_kwargs:
                if key in k.arange_params:
                    out.findings.append(
                        finding(
                            RuleId.NON_POW2_BLOCK,
                            shift(rng, base),
                            f"{key}={value} is used as a tl.arange size in `{k.name}`, which must be a power "
                            "of two: use a power of two and mask the extra lanes",
                            f.name,
                        )
                    )


def _inline_cuda(out: _Linked, statements: Sequence[StatementFacts], bases: Sequence[int]) -> None:
    referenced: set[str] = set()
    for st in statements:
        for call in st.inline_calls:
            referenced.update(call.names)
    for st, base in zip(statements, bases, strict=True):
        for call in st.inline_calls:
            for tr in call.literals:
                _emit(out, tr, base)
        for name, tr in st.sources:
            if name in referenced:
                _emit(out, tr, base)


def _emit(out: _Linked, tr: cuda.Translated, base: int) -> None:
    out.sites += [
        replace(s, range=shift(s.range, base), name_range=shift(s.name_range, base)) for s in tr.sites
    ]
    out.findings += [replace(x, range=shift(x.range, base)) for x in tr.findings]
