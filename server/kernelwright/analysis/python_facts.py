"""The facts phase 1 reads from one top-level Python statement and phase 2 links: plain records.

`python_statement.statement_facts` builds a `StatementFacts` per top-level statement (cached by the
statement's text); `python_link.link` combines them. Ranges inside them count from the statement's first
line (`Span`s, or `Range`s for the rare candidate findings), so an unchanged statement's facts stay valid
wherever edits move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from kernelwright.analysis import cuda
from kernelwright.analysis.directives import CommentLine
from kernelwright.analysis.positions import Span
from kernelwright.core.site import Finding, Range


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


NO_FACTS = StatementFacts()  # what most top-level comments hold: the linker skips it by identity
