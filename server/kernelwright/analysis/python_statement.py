"""Phase 1 for Python files: ONE top-level statement -> its `StatementFacts`.

`statement_facts` reads the statement's imports, its module-level defs and classes (a class's methods
too), the query matches inside it (calls, loops, `tl.float64`, directive comments, CUDA strings) and the
CUDA source of `load_inline` calls and of module-level strings. What it reads depends only on the
statement's text from the start of its first line and the file's import aliases (`top_level_aliases`),
so the pipeline caches the facts by that key. Each function's own facts are collected by
python_functions.py; python_link.py combines all statements' facts.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from tree_sitter import Node, Query, QueryCursor

from kernelwright.analysis import cuda
from kernelwright.analysis.directives import CommentLine, is_directive
from kernelwright.analysis.imports import Aliases, dotted_name, import_bindings
from kernelwright.analysis.parsing import INTERESTING_CALLS, node_text, python_query
from kernelwright.analysis.positions import ByteColumns, span_range
from kernelwright.analysis.python_facts import (
    NO_FACTS,
    ClassFacts,
    Flagged,
    InlineCall,
    Launch,
    StatementFacts,
    ZerosAlloc,
)
from kernelwright.analysis.python_functions import (
    TL,
    FunctionBuilder,
    Place,
    finish,
    int_literal,
    is_kernel,
    is_pow2,
    kernel_call,
)
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import Range, SiteKind

LOAD_INLINE = "torch.utils.cpp_extension.load_inline"
HOST_SYNC_METHODS = ("item", "cpu", "tolist", "numpy")
ALLOCATORS = frozenset(
    f"torch.{n}"
    for n in ("zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "tensor", "eye")
)
ZEROS = {"torch.zeros": "empty", "torch.zeros_like": "empty_like"}


def top_level_aliases(root: Node) -> Aliases:
    """What the names of the file's module-level imports stand for: part of every statement's cache key."""
    pairs: list[tuple[str, str]] = []
    for child in root.named_children:
        if child.type in ("import_statement", "import_from_statement"):
            pairs += import_bindings(child)
    return Aliases(tuple(pairs))


def _kwarg(args: Node, name: str) -> Node | None:
    for a in args.named_children:
        if a.type == "keyword_argument" and node_text(a.child_by_field_name("name")) == name:
            return a.child_by_field_name("value")
    return None


def _positional(args: Node) -> list[Node]:
    return [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]


class _Statement(Place):
    """Reads one top-level statement."""

    def __init__(self, top: Node, cols: ByteColumns, aliases: Aliases, source: bytes) -> None:
        super().__init__(cols, aliases, top.start_point.row)
        self.top = top
        self.source = source

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
        owner: Callable[[Node], FunctionBuilder | None] = lambda n: self._owner(builders, starts, n)  # noqa: E731
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
                            node_text(b.node.child_by_field_name("name")),
                        )
                    )
            elif "comment" in caps:
                node = caps["comment"][0]
                text = node_text(node)
                if is_directive(text):
                    s = node.start_point
                    directives.append(
                        CommentLine(text, self.cols.position(s.row, s.column, node.start_byte, self.base))
                    )
            elif "string" in caps:
                strings.append(caps["string"][0])
        # A method that collected nothing can be no site and flag nothing: it is left out of the facts.
        functions = tuple(finish(self, b) for b in builders if b.parent is None or b.collected())
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
                            tr = self._inline(lit, node_text(left))
                            if tr is not None:
                                sources.append((node_text(left), tr))
        elif top.type in ("function_definition", "class_definition", "decorated_definition"):
            inner = top.child_by_field_name("definition") if top.type == "decorated_definition" else top
            if inner is not None:
                names.append(node_text(inner.child_by_field_name("name")))
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
        text = node_text(top)
        if not is_directive(text):
            return NO_FACTS
        s = top.start_point
        start = self.cols.position(s.row, s.column, top.start_byte, self.base)
        return StatementFacts(directives=(CommentLine(text, start),))

    def _targets(self, left: Node | None) -> list[str]:
        if left is None:
            return []
        if left.type == "identifier":
            return [node_text(left)]
        if left.type in ("pattern_list", "tuple_pattern"):
            return [node_text(c) for c in left.named_children if c.type == "identifier"]
        return []

    @staticmethod
    def _owner(builders: list[FunctionBuilder], starts: list[int], node: Node) -> FunctionBuilder | None:
        i = bisect.bisect_right(starts, node.start_byte) - 1
        while i >= 0:
            b = builders[i]
            if b.node.end_byte >= node.end_byte:
                return b
            i -= 1
        return None

    def _definitions(self, methods: bool = True) -> tuple[list[FunctionBuilder], list[ClassFacts]]:
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
            return [FunctionBuilder(inner, top, None, is_kernel(top, self.aliases))], []
        if inner.type != "class_definition":
            return [], []
        c = self._class(inner, top)
        parent = node_text(inner.child_by_field_name("name"))
        builders: list[FunctionBuilder] = []
        body = inner.child_by_field_name("body")
        for child in body.named_children if methods and body is not None and body.type == "block" else ():
            if child.type == "function_definition":
                builders.append(FunctionBuilder(child, child, parent, False))
            elif child.type == "decorated_definition":
                node = child.child_by_field_name("definition")
                if node is not None and node.type == "function_definition":
                    builders.append(FunctionBuilder(node, child, parent, False))
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
        return ClassFacts(node_text(name), self.span(outer), self.span(name), tuple(bases))

    def _call(self, b: FunctionBuilder | None, call: Node, callee: Node, args: Node) -> InlineCall | None:
        aliases = self.aliases
        if callee.type == "subscript":
            value = callee.child_by_field_name("value")
            if b is not None and value is not None and value.type == "identifier":
                self._launch(b, call, node_text(value), args)
            return None
        name = dotted_name(callee)
        if b is not None and callee.type == "attribute":
            method = name.rpartition(".")[2] if name else node_text(callee.child_by_field_name("attribute"))
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
                    b.zeros.append(ZerosAlloc(node_text(left), self.rng(callee), fixed))
        if b.is_kernel and qual.startswith(TL):
            kernel_call(self, b, call, qual[len(TL) :], args)
        return None

    def _launch(self, b: FunctionBuilder, call: Node, kernel: str, args: Node) -> None:
        positional: list[str | None] = []
        kwargs: list[tuple[str, str | None]] = []
        ints: list[tuple[str, int, Range]] = []
        for a in args.named_children:
            kind = a.type
            if kind != "keyword_argument":
                if kind != "comment":
                    positional.append(node_text(a) if kind == "identifier" else None)
                continue
            key = node_text(a.child_by_field_name("name"))
            value = a.child_by_field_name("value")
            kwargs.append(
                (key, node_text(value) if value is not None and value.type == "identifier" else None)
            )
            literal = int_literal(value)
            if literal is not None and value is not None and not is_pow2(literal):
                ints.append((key, literal, self.rng(value)))
        b.launches.append(Launch(kernel, tuple(positional), tuple(kwargs), tuple(ints)))

    def _loop(self, b: FunctionBuilder, node: Node, right: Node) -> None:
        header = span_range(self.cols, node, right, self.base)
        if (
            right.type == "identifier"
            and b.parent is not None
            and node_text(right) in b.params(self.aliases)[1:]
        ):
            b.loops.append(Flagged(f"iterates over the tensor `{node_text(right)}` row by row", header))
        elif right.type == "call" and node_text(right.child_by_field_name("function")) == "range":
            inner = node_text(right.child_by_field_name("arguments"))
            if any(tok in inner for tok in (".shape", ".size(", "len(", ".numel(")):
                b.loops.append(Flagged(f"loops over `{node_text(right)}`, a tensor dimension", header))

    def _load_inline(self, args: Node) -> InlineCall:
        value = _kwarg(args, "cuda_sources")
        names: list[str] = []
        literals: list[cuda.Translated] = []
        if value is not None:
            stack = [value]
            while stack:
                n = stack.pop()
                if n.type == "identifier":
                    names.append(node_text(n))
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
        return NO_FACTS  # not a directive, as most top-level comments are: nothing to read
    return _Statement(top, cols, aliases, source).facts(matches)
