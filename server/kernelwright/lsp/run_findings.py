"""Findings that come from running a site rather than reading it: far from the roofline, slower than
last time, failing to run, no longer matching its last verified behaviour.

They are ordinary `Finding`s (with rule ids of their own) so diagnostics convert them like static ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelwright.core.site import Finding, Position, Range, Severity, Site
from kernelwright.core.text import format_us
from kernelwright.lsp.documents import CodeHashes
from kernelwright.lsp.present import short_device
from kernelwright.lsp.results import ROOFLINE_HINT_BELOW, SiteRecord, regression


@dataclass(frozen=True)
class RunRule:
    id: str
    name: str


FAR_FROM_ROOFLINE = RunRule("KW900", "far-from-roofline")
REGRESSION = RunRule("KW901", "regression")
RUN_FAILED = RunRule("KW902", "run-failed")
BEHAVIOUR_CHANGED = RunRule("KW903", "behaviour-changed")


def _finding(
    rule: RunRule, site: Site, severity: Severity, message: str, rationale: str, rng: Range | None = None
) -> Finding:
    return Finding(
        rule=rule.id,
        name=rule.name,
        message=message,
        severity=severity,
        range=rng or site.name_range,
        rationale=rationale,
        site=site.name,
    )


def run_findings(site: Site, record: SiteRecord, now: CodeHashes) -> list[Finding]:
    out: list[Finding] = []
    if record.failure is not None:
        f = record.failure
        rng = None
        if f.line is not None and site.range.overlaps_lines(f.line, f.line):
            rng = Range(Position(f.line, 0), Position(f.line, 10_000))
        out.append(
            _finding(
                RUN_FAILED,
                site,
                Severity.ERROR,
                f"{site.name} failed to run ({f.stage}): {f.message}",
                "A site that cannot be loaded and run cannot be measured or optimized.",
                rng,
            )
        )
    if record.mismatch is not None:
        out.append(
            _finding(
                BEHAVIOUR_CHANGED,
                site,
                Severity.ERROR,
                f"{site.name} no longer computes what its last verified version computed: {record.mismatch} "
                "(if the change is meant, run kernelwright.clearResults to make this the reference)",
                "An edit that changes results is a bug unless meant; the last verified text is the "
                "reference.",
            )
        )
    m = record.measurement
    if m is None or record.stale(now):
        return out
    if m.roofline is not None and m.roofline.fraction < ROOFLINE_HINT_BELOW:
        r = m.roofline
        out.append(
            _finding(
                FAR_FROM_ROOFLINE,
                site,
                Severity.HINT,
                f"{site.name} runs at {r.fraction:.0%} of its {r.bound.value} roofline on "
                f"{short_device(m.device)} ({format_us(m.timing.median_us)}, floor {format_us(r.floor_us)}): "
                "there is room to optimize.",
                "The roofline is the floor the device's bandwidth and compute allow; far above it is waste.",
            )
        )
    if record.previous is not None:
        ratio = regression(record.previous, m)
        if ratio is not None:
            out.append(
                _finding(
                    REGRESSION,
                    site,
                    Severity.WARNING,
                    f"{site.name} got slower: {format_us(m.timing.median_us)} now, "
                    f"{format_us(record.previous.timing.median_us)} before ({ratio - 1:+.0%}) "
                    f"on {short_device(m.device)}.",
                    "Compared with the previous measurement of this site on the same device, beyond "
                    "its spread.",
                )
            )
    return out
