"""The suite's table, summary and a self-contained HTML report with a plot of every problem's speedup
(over eager, and the best compile mode's beside it), as `kernelwright suite` prints and writes them."""

from __future__ import annotations

import html
import math
import time

from kernelwright.core.text import format_us
from kernelwright.optimize.suite import ProblemResult, ProblemStatus, SuiteDone, SuiteSummary


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def one_line(r: ProblemResult) -> str:
    if r.status in (ProblemStatus.FAILED, ProblemStatus.SKIPPED):
        return f"{r.status}: {r.reason.splitlines()[0][:160] if r.reason else ''}"
    if r.status == ProblemStatus.NOT_TIMED:
        return "verified, not timed on this device (Triton interpreter)"
    best = r.best_compile
    kept = f"{_x(r.speedup)} ({r.kept})" if r.kept else "1.00x (the original stays)"
    compile_text = (
        f"best compile {best[0].removeprefix('compile-')} {_x(best[1])}"
        if best
        else "no compile mode verified"
    )
    missing = compile_gaps(r)
    gaps = f" ({missing})" if missing else ""
    return f"{kept} over eager; {compile_text}{gaps}; vs compile {_x(r.vs_compile)} ({r.seconds:.0f} s)"


def compile_gaps(r: ProblemResult) -> str:
    """The compile modes without a speedup and why: "max-autotune not finished, default rejected (value)"."""
    return ", ".join(
        f"{mode.removeprefix('compile-')} {why}" for mode, why in sorted(r.compile_notes.items())
    )


HEADERS = ("problem", "status", "eager", "kept", "speedup [95%]", "best compile", "vs compile", "roofline")


def _kept(r: ProblemResult, min_speedup: float) -> str:
    """The kept candidate's short name; for a kept original, the fastest verified candidate it was kept
    over, so a gap to the compile column that comes from the keep threshold reads as such."""
    if r.status != ProblemStatus.DONE:
        return "—"
    if r.kept:
        return r.kept.split("-builtin-")[-1]
    if r.best_verified and r.best_verified > 1.0:
        return f"original (best verified {_x(r.best_verified)}, its interval under the {_x(min_speedup)} bar)"
    return "original"


def table_rows(done: SuiteDone) -> list[list[str]]:
    rows = []
    for r in done.results:
        best = r.best_compile
        interval = (
            f" [{r.kept_low:.2f}-{r.kept_high:.2f}]"
            if r.kept_low is not None and r.kept_high is not None
            else ""
        )
        roof = "—"
        if r.roofline_before is not None:
            roof = f"{_pct(r.roofline_before)} -> {_pct(r.roofline_after)}"
        rows.append(
            [
                r.name,
                r.status if r.status != ProblemStatus.DONE else ("improved" if r.kept else "kept original"),
                format_us(r.eager_us) if r.eager_us is not None else "—",
                _kept(r, done.min_speedup),
                f"{_x(r.speedup)}{interval}",
                (f"{best[0].removeprefix('compile-')} {_x(best[1])}" if best else "—")
                + ("*" if r.compile_notes else ""),
                _x(r.vs_compile),
                roof,
            ]
        )
    return rows


def summary_rows(s: SuiteSummary, done: SuiteDone) -> list[list[str]]:
    return [
        ["problems", f"{s.problems} ({s.evaluated} evaluated, {s.failed} failed, {s.skipped} skipped)"],
        ["correct", _pct(s.correct_rate) + " (a candidate verified)"],
        [
            "fast_1 / fast_1.5",
            f"{_pct(s.fast.get('fast_1'))} / {_pct(s.fast.get('fast_1.5'))} of the evaluated",
        ],
        ["speedup over eager", f"geomean {_x(s.geomean_speedup)}, median {_x(s.median_speedup)}"],
        [
            "over best compile",
            f"geomean {_x(s.geomean_vs_compile)}, median {_x(s.median_vs_compile)}; "
            f"{s.beats_compile_10} problem(s) more than 10% faster"
            + (
                f"; in {s.compile_cut_off} problem(s) a compile mode did not finish in the budget, so"
                " their figure is against the modes that did"
                if s.compile_cut_off
                else ""
            ),
        ],
        [
            "kept",
            f"the fastest verified candidate whose whole 95% interval is at or above {_x(done.min_speedup)}"
            " over eager",
        ],
        ["device / provider", f"{done.device or '?'} / {done.provider}"],
        ["roofline peaks", done.peaks or "?"],
        ["time", f"{done.seconds:.0f} s"],
    ]


ROW_H, LEFT, BAR_W = 22, 220, 460


def speedup_bars(done: SuiteDone) -> str:
    """Per problem, on a log scale around 1x: what is kept (green, red below 1x) and the best compile
    mode (grey), both over eager."""
    rows = [r for r in done.results if r.speedup is not None]
    values = [v for r in rows for v in (r.speedup, r.best_compile[1] if r.best_compile else None) if v]
    span = max([2.0, *(max(v, 1 / v) for v in values)])
    scale = BAR_W / 2 / math.log(span)
    mid = LEFT + BAR_W / 2
    height = ROW_H * (len(rows) + 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LEFT + BAR_W + 120}" height="{height}" role="img" '
        'aria-label="speedup over eager per problem">',
        f'<line x1="{mid}" y1="0" x2="{mid}" y2="{height - ROW_H}" stroke="#444"/>',
        f'<text x="{mid}" y="{height - 6}" font-size="11" text-anchor="middle">1x (eager)</text>',
        f'<text x="{LEFT + BAR_W}" y="{height - 6}" font-size="11" text-anchor="end">{span:.1f}x</text>',
        f'<text x="{LEFT}" y="{height - 6}" font-size="11">{1 / span:.2f}x</text>',
    ]
    for i, r in enumerate(rows):
        y = ROW_H * (i + 0.5)
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 10}" font-size="12" text-anchor="end">{html.escape(r.name)}</text>'
        )
        best = r.best_compile
        if best is not None:
            w = math.log(best[1]) * scale
            parts.append(
                f'<rect x="{min(mid, mid + w):.1f}" y="{y + 1}" width="{abs(w):.1f}" height="6" fill="#aaa">'
                f"<title>best compile ({html.escape(best[0])}): {best[1]:.2f}x</title></rect>"
            )
        s = r.speedup or 1.0
        w = math.log(s) * scale
        colour = "#2a7" if s >= 1 else "#c33"
        parts.append(
            f'<rect x="{min(mid, mid + w):.1f}" y="{y + 8}" width="{max(1.0, abs(w)):.1f}" height="9" '
            f'fill="{colour}"><title>{html.escape(r.name)}: kept {s:.2f}x</title></rect>'
        )
        parts.append(f'<text x="{LEFT + BAR_W + 6}" y="{y + 16}" font-size="11">{s:.2f}x</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_suite_report(done: SuiteDone, folder: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table_rows(done)
    )
    summary = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in summary_rows(done.summary, done)
    )
    notes = "\n".join(
        f"<li><code>{html.escape(r.name)}</code>: {html.escape(r.status)}: {html.escape(r.reason)}</li>"
        for r in done.results
        if r.status in (ProblemStatus.FAILED, ProblemStatus.SKIPPED)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>kernelwright suite: {html.escape(folder)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }}
</style></head><body>
<h1>Suite <code>{html.escape(folder)}</code></h1>
<p>{html.escape(done.device)}, provider {html.escape(done.provider)}, {when}</p>
<table>{summary}</table>
<h2>Speedup over eager</h2>
<p>Green: what is kept (1.00x where nothing cleared its 95% interval); grey: the best torch.compile
mode that verified. Each from its own interleaved run against the original.</p>
{speedup_bars(done)}
<h2>Problems</h2>
<table><tr>{head}</tr>
{body}
</table>
{"<h2>Not evaluated</h2><ul>" + notes + "</ul>" if notes else ""}
</body></html>
"""
