"""Findings that come from running a site rather than reading it: far from the roofline, slower than
last time, failing to run, no longer matching its last verified behaviour.

They are ordinary `Finding`s (with rule ids of their own) so diagnostics convert them like static ones.
"""

from __future__ import annotations

from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import Finding, Position, Range, Site
from kernelwright.core.text import format_us
from kernelwright.lsp.documents import CodeHashes
from kernelwright.lsp.present import short_device
from kernelwright.lsp.results import ROOFLINE_HINT_BELOW, SiteRecord, regression


def _finding(rule: RuleId, site: Site, message: str, rng: Range | None = None) -> Finding:
    return finding(rule, rng or site.name_range, message, site=site.name)


def run_findings(site: Site, record: SiteRecord, now: CodeHashes) -> list[Finding]:
    out: list[Finding] = []
    if record.failure is not None:
        f = record.failure
        rng = None
        if f.line is not None and site.range.overlaps_lines(f.line, f.line):
            rng = Range(Position(f.line, 0), Position(f.line, 10_000))
        out.append(
            _finding(
                RuleId.RUN_FAILED,
                site,
                f"{site.name} failed to run ({f.stage}): {f.message}",
                rng,
            )
        )
    if record.mismatch is not None:
        out.append(
            _finding(
                RuleId.BEHAVIOUR_CHANGED,
                site,
                f"{site.name} no longer computes what its last verified version computed: {record.mismatch} "
                "(if the change is meant, run kernelwright.clearResults to make this the reference)",
            )
        )
    m = record.measurement
    if m is None or record.stale(now):
        return out
    if m.roofline is not None and m.roofline.fraction < ROOFLINE_HINT_BELOW:
        r = m.roofline
        out.append(
            _finding(
                RuleId.FAR_FROM_ROOFLINE,
                site,
                f"{site.name} runs at {r.fraction:.0%} of its {r.bound.value} roofline on "
                f"{short_device(m.device)} ({format_us(m.timing.median_us)}, floor {format_us(r.floor_us)}): "
                "there is room to optimize.",
            )
        )
    if record.previous is not None:
        ratio = regression(record.previous, m)
        if ratio is not None:
            out.append(
                _finding(
                    RuleId.REGRESSION,
                    site,
                    f"{site.name} got slower: {format_us(m.timing.median_us)} now, "
                    f"{format_us(record.previous.timing.median_us)} before ({ratio - 1:+.0%}) "
                    f"on {short_device(m.device)}.",
                )
            )
    return out
