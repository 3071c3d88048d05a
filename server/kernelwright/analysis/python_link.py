"""Phase 2 for Python files: all statements' facts -> the file's sites and findings.

`link` takes each statement's `StatementFacts` (python_statement.py) with the statement's current first
line and decides which classes are torch Modules, which functions launch which Triton kernels, which
definition each bench directive points at (and what it says), which candidate findings apply where
(host syncs, Python loops, host allocations, zeros-filled outputs, block sizes), and which inline CUDA
`load_inline` compiles. Linking is cheap: no tree walks; `SiteMemo` reuses the last run's unchanged sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from kernelwright.analysis import cuda
from kernelwright.analysis.directives import CommentLine, function_spec, parse_directive
from kernelwright.analysis.positions import Span, shift, to_range
from kernelwright.analysis.python_facts import NO_FACTS, ClassFacts, FunctionFacts, StatementFacts
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
        if st is NO_FACTS:
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

    def defined(factory: str) -> str | None:
        """The module convention's factory of that name, where the file defines it."""
        return factory if factory in module_names else None

    has_inputs = "get_inputs" in module_names
    init = defined("get_init_inputs")
    for c, base in classes:
        spec: BenchSpec | None = specs.get(c.name)
        if c.name in module_classes:
            if spec is None and has_inputs and c.name in ("Model", "ModelNew"):
                spec = ModuleSpec(
                    model=c.name,
                    init=init,
                    cpu_inputs=defined("get_cpu_inputs"),
                    cpu_init=defined("get_cpu_init_inputs"),
                    shapes=defined("get_other_shape_inputs"),
                    cpu_shapes=defined("get_cpu_other_shape_inputs"),
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
    # (where the rule applies, what it flags, its rule, what it says about one of them)
    hot_path_rules = (
        (
            is_forward or is_launcher or is_benched,
            f.host_syncs,
            RuleId.HOST_SYNC,
            f"{{what}} in a {where} waits for the GPU to finish: keep the value on the device (tensor ops) "
            "or move the check out of the hot path",
        ),
        (
            is_forward or is_benched,
            f.loops,
            RuleId.PYTHON_LOOP,
            "this Python loop {what}: each iteration launches kernels; vectorise it (batched tensor ops) "
            "or write one kernel",
        ),
        (
            is_forward or is_launcher,
            f.host_allocs,
            RuleId.HOST_ALLOCATION,
            "{what} without device= builds the tensor on the CPU every call: pass device=<input>.device",
        ),
    )
    for applies, flagged, rule, message in hot_path_rules:
        if applies:
            for item in flagged:
                out.findings.append(
                    finding(rule, shift(item.range, base), message.format(what=item.what), f.name)
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
