"""CUDA sources (.cu/.cuh files and load_inline strings): __global__ kernels, directives, findings.

Same two phases as the Python module: `unit_facts` reads one top-level node (a function, an
`extern "C"` block, a namespace, a template, a comment) into facts with lines relative to its start;
`link` ties directive comments to the kernels below them and builds the CudaSpecs.

Why one module: both phases of the CUDA reader over one tree-sitter grammar, 470 lines together (the
Python reader's were 1,019 and are split by phase).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from tree_sitter import Node, QueryCursor

from kernelwright.analysis.directives import CommentLine, cuda_spec, is_directive, parse_directive
from kernelwright.analysis.parsing import cuda_query, node_text, parser_for
from kernelwright.analysis.positions import ByteColumns, node_range, shift
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import (
    CudaParam,
    CudaParamRole,
    CudaSpec,
    Finding,
    Language,
    Position,
    Range,
    Site,
    SiteKind,
)

# C type -> torch dtype name. `unsigned int` is uint32 (not int32: the bits mean something else).
DTYPES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "__half": "float16",
    "__nv_bfloat16": "bfloat16",
    "nv_bfloat16": "bfloat16",
    "int": "int32",
    "signed int": "int32",
    "int32_t": "int32",
    "unsigned int": "uint32",
    "unsigned": "uint32",
    "uint32_t": "uint32",
    "int64_t": "int64",
    "long long": "int64",
    "long long int": "int64",
    "long": "int64",
    "unsigned long long": "uint64",
    "uint64_t": "uint64",
    "size_t": "uint64",
    "short": "int16",
    "int16_t": "int16",
    "int8_t": "int8",
    "char": "int8",
    "signed char": "int8",
    "uint8_t": "uint8",
    "unsigned char": "uint8",
    "bool": "bool",
}
_FLOAT_LITERAL = re.compile(r"^(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+|\.\d+[eE][+-]?\d+)$")
_THREAD = "threadIdx"
_BLOCK = "blockIdx"


@dataclass(frozen=True, slots=True)
class KernelFacts:
    name: str
    range: Range  # the kernel, with its template / extern "C" wrapper when that wraps only it
    name_range: Range
    params: tuple[CudaParam, ...]


@dataclass(frozen=True, slots=True)
class UnitFacts:
    kernels: tuple[KernelFacts, ...] = ()
    comments: tuple[CommentLine, ...] = ()  # `//` comments, for directives and their continuations
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class CudaResult:
    sites: tuple[Site, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Translated:
    """An inline source's sites and findings, in the lines of the Python statement that holds it."""

    sites: tuple[Site, ...]
    findings: tuple[Finding, ...]


def _spaces(text: str) -> str:
    return " ".join(text.split())


def _declared_name(node: Node | None) -> tuple[Node | None, bool]:
    """The identifier a declarator declares, and whether it is a pointer (or array)."""
    pointer = False
    while node is not None and node.type not in ("identifier", "field_identifier"):
        if node.type in ("pointer_declarator", "array_declarator", "abstract_pointer_declarator"):
            pointer = True
        nxt = node.child_by_field_name("declarator")
        if nxt is None:
            nxt = next(
                (c for c in node.named_children if c.type.endswith("declarator") or c.type == "identifier"),
                None,
            )
        node = nxt
    return node, pointer


def _param(decl: Node) -> CudaParam | None:
    name, pointer = _declared_name(decl.child_by_field_name("declarator"))
    if name is None:
        return None
    type_node = decl.child_by_field_name("type")
    base = _spaces(node_text(type_node))
    is_const = any(c.type == "type_qualifier" and node_text(c) == "const" for c in decl.children)
    whole = node_text(decl)
    rel_s = name.start_byte - decl.start_byte
    rel_e = name.end_byte - decl.start_byte
    raw = decl.text or b""
    c_type = _spaces((raw[:rel_s] + raw[rel_e:]).decode("utf-8", "replace")) or whole
    role = CudaParamRole.SCALAR if not pointer else CudaParamRole.INPUT if is_const else CudaParamRole.OUTPUT
    return CudaParam(
        name=node_text(name),
        c_type=c_type,
        base_type=base,
        is_pointer=pointer,
        is_const=is_const,
        role=role,
        dtype=DTYPES.get(base),
    )


class _Func:
    def __init__(self, node: Node, is_global: bool) -> None:
        self.node = node
        self.is_global = is_global
        self.name = ""
        self.pointers: set[str] = set()
        self.decls: list[tuple[str, set[str], bool, bool]] = []  # name, idents, uses threadIdx, uses blockIdx
        self.compares: list[tuple[set[str], bool]] = []  # idents, uses a builtin index
        self.subscripts: list[tuple[Node, str, set[str], bool]] = []  # node, array, idents, uses builtin
        self.syncs: list[Node] = []


def _idents(node: Node) -> tuple[set[str], bool, bool]:
    """Identifiers in an expression, and whether it reads threadIdx / blockIdx."""
    out: set[str] = set()
    thread = block = False
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            t = node_text(n)
            if t == _THREAD:
                thread = True
            elif t == _BLOCK:
                block = True
            else:
                out.add(t)
        stack.extend(n.named_children)
    return out, thread, block


class _Unit:
    def __init__(self, top: Node, cols: ByteColumns) -> None:
        self.top = top
        self.cols = cols
        self.base = top.start_point.row

    def rng(self, node: Node) -> Range:
        return node_range(self.cols, node, self.base)

    def facts(self) -> UnitFacts:
        matches = QueryCursor(cuda_query()).matches(self.top)
        funcs: list[_Func] = []
        comments: list[CommentLine] = []
        for _, caps in matches:
            if "func" in caps:
                node = caps["func"][0]
                kinds = {c.type for c in node.children}
                if "__global__" in kinds or "__device__" in kinds:
                    funcs.append(_Func(node, "__global__" in kinds))
            elif "comment" in caps:
                node = caps["comment"][0]
                text = node_text(node)
                if text.startswith("//"):
                    s = node.start_point
                    comments.append(
                        CommentLine(text, self.cols.position(s.row, s.column, node.start_byte, self.base))
                    )
        starts = [f.node.start_byte for f in funcs]
        kernels: list[KernelFacts] = []
        findings: list[Finding] = []
        for f in funcs:
            k = self._signature(f)
            if k is not None and f.is_global:
                kernels.append(k)
        for _, caps in matches:
            if "func" in caps or "comment" in caps:
                continue
            anchor = next(iter(caps.values()))[0]
            owner = self._owner(funcs, starts, anchor)
            if owner is not None:
                self._collect(owner, caps, findings)
        for f in funcs:
            findings += self._judge(f)
        return UnitFacts(tuple(kernels), tuple(comments), tuple(findings))

    @staticmethod
    def _owner(funcs: list[_Func], starts: list[int], node: Node) -> _Func | None:
        i = bisect.bisect_right(starts, node.start_byte) - 1
        while i >= 0:
            if funcs[i].node.end_byte >= node.end_byte:
                return funcs[i]
            i -= 1
        return None

    def _signature(self, f: _Func) -> KernelFacts | None:
        declarator = f.node.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "function_declarator":
            declarator = declarator.child_by_field_name("declarator")
        if declarator is None:
            return None
        name = declarator.child_by_field_name("declarator")
        plist = declarator.child_by_field_name("parameters")
        if name is None or plist is None:
            return None
        f.name = node_text(name)
        params: list[CudaParam] = []
        for p in plist.named_children:
            if p.type == "parameter_declaration":
                cp = _param(p)
                if cp is not None:
                    params.append(cp)
                    if cp.is_pointer:
                        f.pointers.add(cp.name)
        outer = f.node
        if outer.parent is not None and outer.parent.type == "template_declaration":
            outer = outer.parent
        if outer.parent is not None and outer.parent.type == "linkage_specification":
            outer = outer.parent
        return KernelFacts(f.name, self.rng(outer), self.rng(name), tuple(params))

    def _collect(self, f: _Func, caps: dict[str, list[Node]], findings: list[Finding]) -> None:
        if "decl.name" in caps:
            idents, thread, block = _idents(caps["decl.value"][0])
            f.decls.append((node_text(caps["decl.name"][0]), idents, thread, block))
        elif "compare" in caps:
            idents, thread, block = _idents(caps["compare"][0])
            f.compares.append((idents, thread or block))
        elif "sub" in caps:
            arr = caps["sub.arg"][0]
            if arr.type == "identifier":
                idents, thread, block = _idents(caps["sub.index"][0])
                f.subscripts.append((caps["sub"][0], node_text(arr), idents, thread or block))
        elif "call" in caps:
            if node_text(caps["call.name"][0]) == "__syncthreads":
                f.syncs.append(caps["call"][0])
        elif "number" in caps:
            node = caps["number"][0]
            text = node_text(node)
            if _FLOAT_LITERAL.match(text):
                findings.append(
                    finding(
                        RuleId.DOUBLE_LITERAL,
                        self.rng(node),
                        f"`{text}` is a double: the expression is computed in fp64; write `{text}f`",
                        f.name or None,
                        text + "f",
                    )
                )
        elif "type" in caps:
            node = caps["type"][0]
            if node_text(node) == "double":
                findings.append(
                    finding(
                        RuleId.FLOAT64_IN_KERNEL,
                        self.rng(node),
                        "double in device code runs at a fraction of fp32 speed: use float unless the "
                        "algorithm needs double precision",
                        f.name or None,
                    )
                )

    def _judge(self, f: _Func) -> list[Finding]:
        thread_vars: set[str] = set()
        index_vars: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, idents, thread, block in f.decls:
                if name not in thread_vars and (thread or idents & thread_vars):
                    thread_vars.add(name)
                    changed = True
                if name not in index_vars and (thread or block or idents & index_vars):
                    index_vars.add(name)
                    changed = True
        out: list[Finding] = []
        if f.is_global:
            compared = any(builtin or idents & index_vars for idents, builtin in f.compares)
            if not compared:
                for node, array, idents, builtin in f.subscripts:
                    if array in f.pointers and (builtin or idents & index_vars):
                        out.append(
                            finding(
                                RuleId.MISSING_BOUNDS_CHECK,
                                self.rng(node),
                                f"`{node_text(node)}` uses a thread-derived index that is never compared "
                                "to a bound: guard it, e.g. `if (i < n)`: the grid rounds up to whole blocks",
                                f.name,
                            )
                        )
                        break
        for sync in f.syncs:
            cond = self._divergent(sync, f.node, thread_vars)
            if cond is not None:
                out.append(
                    finding(
                        RuleId.DIVERGENT_SYNCTHREADS,
                        self.rng(sync),
                        f"__syncthreads() under `{node_text(cond)}`, which differs between threads: threads "
                        "that skip it deadlock the block; move the barrier outside the branch",
                        f.name or None,
                    )
                )
        return out

    @staticmethod
    def _divergent(node: Node, stop: Node, thread_vars: set[str]) -> Node | None:
        child = node
        up = node.parent
        while up is not None and up.id != stop.id:
            if up.type in ("if_statement", "while_statement", "conditional_expression"):
                cond = up.child_by_field_name("condition")
                if cond is not None and cond.id != child.id:
                    idents, thread, _ = _idents(cond)
                    if thread or idents & thread_vars:
                        return cond
            child = up
            up = up.parent
        return None


def unit_facts(top: Node, cols: ByteColumns) -> UnitFacts:
    return _Unit(top, cols).facts()


def link(
    units: Sequence[UnitFacts], bases: Sequence[int], kind: SiteKind, container: str | None
) -> tuple[list[Site], list[Finding]]:
    """Directive comments -> the kernel below them; sites and findings in absolute lines."""
    sites: list[Site] = []
    findings: list[Finding] = []
    kernels: dict[int, KernelFacts] = {}  # first row -> kernel
    shifted: list[tuple[KernelFacts, int]] = []
    comments: list[CommentLine] = []
    for u, base in zip(units, bases, strict=True):
        for k in u.kernels:
            kernels[k.range.start.line + base] = k
            shifted.append((k, base))
        comments += [
            CommentLine(c.text, Position(c.start.line + base, c.start.character)) for c in u.comments
        ]
        findings += [replace(x, range=shift(x.range, base)) for x in u.findings]
    by_row = {c.start.line: c for c in comments}
    specs: dict[str, CudaSpec] = {}
    for c in comments:
        if not is_directive(c.text):
            continue
        run = [c]
        row = c.start.line + 1
        # Continuation lines are `//` comments whose first word is key=value; plain comments may follow.
        while row in by_row and not is_directive(by_row[row].text) and _continues(by_row[row].text):
            run.append(by_row[row])
            row += 1
        while row in by_row and not is_directive(by_row[row].text) and row not in kernels:
            row += 1
        kernel = kernels.get(row)
        if kernel is None:
            findings.append(
                finding(
                    RuleId.MALFORMED_DIRECTIVE,
                    parse_directive(run).range,
                    "a bench directive must be directly above a __global__ kernel (its template or "
                    'extern "C" line included)',
                )
            )
            continue
        first = run[0].start.line
        relative = tuple(CommentLine(x.text, Position(x.start.line - first, x.start.character)) for x in run)
        spec, errors = _cached_spec(relative, kernel.name, kernel.params)
        findings += [replace(e, range=shift(e.range, first)) for e in errors]
        if spec is not None:
            specs[kernel.name] = spec
    for k, base in shifted:
        spec = specs.get(k.name)
        sites.append(
            Site(
                kind=kind,
                name=k.name,
                language=Language.CUDA,
                range=shift(k.range, base),
                name_range=shift(k.name_range, base),
                spec=spec,
                container=container,
            )
        )
    sites.sort(key=lambda s: (s.range.start, s.name))
    findings.sort(key=lambda x: (x.range.start, x.rule))
    return sites, findings


@lru_cache(maxsize=4096)
def _cached_spec(
    lines: tuple[CommentLine, ...], kernel: str, params: tuple[CudaParam, ...]
) -> tuple[CudaSpec | None, tuple[Finding, ...]]:
    """cuda_spec of a directive whose first line is line 0: unchanged directives are not re-read."""
    spec, errors = cuda_spec(parse_directive(lines, kernel), kernel, params)
    return spec, tuple(errors)


def clear_caches() -> None:
    _cached_spec.cache_clear()


def _continues(text: str) -> bool:
    words = text[2:].split()
    return bool(words) and "=" in words[0] and not words[0].startswith("=")


def top_nodes(root: Node) -> list[Node]:
    return list(root.children)


def analyze_cuda(
    source: bytes, kind: SiteKind = SiteKind.CUDA_KERNEL, container: str | None = None
) -> CudaResult:
    """Full analysis of one CUDA source."""
    tree = parser_for(Language.CUDA).parse(source)
    cols = ByteColumns(source)
    tops = top_nodes(tree.root_node)
    units = [unit_facts(n, cols) for n in tops]
    sites, findings = link(units, [n.start_point.row for n in tops], kind, container)
    return CudaResult(tuple(sites), tuple(findings))


def translate(result: CudaResult, origin: Position) -> Translated:
    """Move ranges from the string's own coordinates to the file's: line 0 starts at `origin`."""

    def pos(p: Position) -> Position:
        if p.line == 0:
            return Position(origin.line, origin.character + p.character)
        return Position(origin.line + p.line, p.character)

    def rng(r: Range) -> Range:
        return Range(pos(r.start), pos(r.end))

    return Translated(
        tuple(replace(s, range=rng(s.range), name_range=rng(s.name_range)) for s in result.sites),
        tuple(replace(x, range=rng(x.range)) for x in result.findings),
    )
