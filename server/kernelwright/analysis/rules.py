"""The catalogue of findings: each rule has a stable id, a slug, a title and a stated rationale.

Ids are stable (they appear in diagnostics, `scan --json` and suppression lists): never renumber, only
add. The detectors live with their language (analysis/python_*.py, analysis/cuda.py, analysis/syntax.py,
analysis/directives.py; KW000 in analysis/pipeline.py); KW900-KW903 come from running a site, and
lsp/run_findings.py decides when they apply. This module says what each rule means and builds its
Findings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kernelwright.core.site import Finding, Language, Range, Severity


class RuleId(enum.StrEnum):
    ANALYSIS_ERROR = "KW000"
    MALFORMED_DIRECTIVE = "KW001"
    SYNTAX_ERROR = "KW002"
    HOST_SYNC = "KW101"
    PYTHON_LOOP = "KW102"
    UNMASKED_ACCESS = "KW103"
    MISSING_BOUNDS_CHECK = "KW104"
    FLOAT64_IN_KERNEL = "KW105"
    DOUBLE_LITERAL = "KW106"
    NON_POW2_BLOCK = "KW107"
    ZEROS_FOR_OUTPUT = "KW108"
    DIVERGENT_SYNCTHREADS = "KW109"
    HOST_ALLOCATION = "KW110"
    # From running a site rather than reading it (lsp/run_findings.py decides when they apply).
    FAR_FROM_ROOFLINE = "KW900"
    REGRESSION = "KW901"
    RUN_FAILED = "KW902"
    BEHAVIOUR_CHANGED = "KW903"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    title: str
    rationale: str
    severity: Severity
    languages: tuple[Language, ...]


_PY = (Language.PYTHON,)
_CU = (Language.CUDA,)
_BOTH = (Language.PYTHON, Language.CUDA)

RULES: tuple[Rule, ...] = (
    Rule(
        RuleId.ANALYSIS_ERROR,
        "analysis-error",
        "kernelwright could not analyse the file",
        "An analysis failure is reported, never hidden.",
        Severity.ERROR,
        _BOTH,
    ),
    Rule(
        RuleId.MALFORMED_DIRECTIVE,
        "malformed-directive",
        "A kernelwright directive that cannot be read",
        "A bench directive that is silently ignored makes a site look unmeasurable for no visible reason.",
        Severity.ERROR,
        _BOTH,
    ),
    Rule(
        RuleId.SYNTAX_ERROR,
        "syntax-error",
        "Python source that does not parse",
        "A file that does not parse cannot be imported, so it cannot be benched or verified, and the sites "
        "found in it are tree-sitter's best guess around the error.",
        Severity.ERROR,
        _PY,
    ),
    Rule(
        RuleId.HOST_SYNC,
        "host-sync",
        "Host synchronisation in a forward, launcher or benchmarked function",
        "`.item()`, `.cpu()`, `.tolist()`, `.numpy()` and `torch.cuda.synchronize()` stall the CPU until "
        "the GPU drains, serialising launches that would otherwise overlap.",
        Severity.WARNING,
        _PY,
    ),
    Rule(
        RuleId.PYTHON_LOOP,
        "python-loop-over-tensor",
        "Python loop over tensor rows or elements in a forward",
        "One kernel launch (or more) per iteration: launch overhead grows with the size of the data.",
        Severity.WARNING,
        _PY,
    ),
    Rule(
        RuleId.UNMASKED_ACCESS,
        "unmasked-triton-access",
        "tl.load/tl.store of a tl.arange block without a mask",
        "Unless the grid provably divides the size, the last program reads or writes out of bounds.",
        Severity.WARNING,
        _PY,
    ),
    Rule(
        RuleId.MISSING_BOUNDS_CHECK,
        "missing-bounds-check",
        "CUDA kernel indexes memory with a thread index it never compares to a bound",
        "Grids are rounded up to whole blocks, so the last block's extra threads access out of bounds.",
        Severity.WARNING,
        _CU,
    ),
    Rule(
        RuleId.FLOAT64_IN_KERNEL,
        "float64-in-kernel",
        "double precision in a kernel",
        "fp64 throughput is 1/2 to 1/64 of fp32 on most GPUs; it is rarely what a kernel meant.",
        Severity.WARNING,
        _BOTH,
    ),
    Rule(
        RuleId.DOUBLE_LITERAL,
        "unsuffixed-float-literal",
        "Unsuffixed floating-point literal in device code",
        "`2.0` is a double in C++: it silently promotes the whole expression to fp64; write `2.0f`.",
        Severity.WARNING,
        _CU,
    ),
    Rule(
        RuleId.NON_POW2_BLOCK,
        "non-power-of-two-block",
        "Triton block size that is not a power of two",
        "tl.arange needs a power-of-two range: the kernel fails to compile for this value.",
        Severity.ERROR,
        _PY,
    ),
    Rule(
        RuleId.ZEROS_FOR_OUTPUT,
        "zeros-for-written-output",
        "Output allocated with zeros although the kernel writes it entirely",
        "Zero-filling is an extra full pass over memory that the kernel immediately overwrites.",
        Severity.INFORMATION,
        _PY,
    ),
    Rule(
        RuleId.DIVERGENT_SYNCTHREADS,
        "divergent-syncthreads",
        "__syncthreads() inside a branch that depends on the thread index",
        "Threads that skip the barrier leave the others waiting: undefined behaviour, often a hang.",
        Severity.ERROR,
        _CU,
    ),
    Rule(
        RuleId.HOST_ALLOCATION,
        "tensor-without-device",
        "Tensor created in a forward without device=",
        "It is allocated on the host and copied to the GPU on every call; pass device= (e.g. x.device).",
        Severity.WARNING,
        _PY,
    ),
    Rule(
        RuleId.FAR_FROM_ROOFLINE,
        "far-from-roofline",
        "The site runs far above the floor its device's bandwidth and compute allow",
        "The roofline is the floor the device's bandwidth and compute allow; far above it is waste.",
        Severity.HINT,
        _BOTH,
    ),
    Rule(
        RuleId.REGRESSION,
        "regression",
        "The site got slower than its previous measurement on the same device",
        "Compared with the previous measurement of this site on the same device, beyond its spread.",
        Severity.WARNING,
        _BOTH,
    ),
    Rule(
        RuleId.RUN_FAILED,
        "run-failed",
        "The site failed to load or run",
        "A site that cannot be loaded and run cannot be measured or optimized.",
        Severity.ERROR,
        _BOTH,
    ),
    Rule(
        RuleId.BEHAVIOUR_CHANGED,
        "behaviour-changed",
        "The site no longer computes what its last verified version computed",
        "An edit that changes results is a bug unless meant; the last verified text is the reference.",
        Severity.ERROR,
        _BOTH,
    ),
)

# The rules a static reading can report (the KW9xx come from runs).
RUN_RULES = frozenset(
    {RuleId.FAR_FROM_ROOFLINE, RuleId.REGRESSION, RuleId.RUN_FAILED, RuleId.BEHAVIOUR_CHANGED}
)

_BY_ID = {rule.id: rule for rule in RULES}


def rule(rule_id: RuleId) -> Rule:
    return _BY_ID[rule_id]


def finding(
    rule_id: RuleId, rng: Range, message: str, site: str | None = None, fix: str | None = None
) -> Finding:
    """A Finding of catalogue rule `rule_id` at `rng`."""
    r = _BY_ID[rule_id]
    return Finding(
        rule=r.id,
        name=r.name,
        message=message,
        severity=r.severity,
        range=rng,
        rationale=r.rationale,
        site=site,
        fix=fix,
    )
