"""A self-contained HTML report of an optimize run: summary, an inline SVG plot of speedup against
attempts, the attempts table and the diff. No scripts, no external files: it opens anywhere."""

from __future__ import annotations

import difflib
import html
import time

from kernelwright.core.text import format_us
from kernelwright.optimize.events import Attempt, OptimizeResult

WIDTH, HEIGHT, PAD = 720, 300, 48


def _fmt(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:.2f}{unit}" if unit == "x" else f"{value:.1f}{unit}"


def _time(us: float | None) -> str:
    return "—" if us is None else format_us(us)


def _verdict_word(a: Attempt) -> str:
    if a.is_baseline:
        return "baseline"
    return "passed" if a.passed else html.escape(a.check or "failed")


def speedup_plot(attempts: tuple[Attempt, ...]) -> str:
    """Speedup (y, log-free linear) against attempt number (x); failures as crosses on the axis."""
    timed = [a for a in attempts if a.speedup is not None]
    top = max([1.2, *(a.speedup or 0.0 for a in timed)]) * 1.1
    n = max(1, len(attempts))

    def x(i: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * (i - 1) / max(1, n - 1)

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="speedup against attempts">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#444"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#444"/>',
        f'<line x1="{PAD}" y1="{y(1.0):.1f}" x2="{WIDTH - PAD}" y2="{y(1.0):.1f}" stroke="#999" '
        'stroke-dasharray="4 4"/>',
        f'<text x="{WIDTH - PAD}" y="{y(1.0) - 4:.1f}" font-size="11" text-anchor="end" fill="#666">'
        "original (1.0x)</text>",
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 10}" font-size="12" text-anchor="middle">attempt</text>',
        f'<text x="14" y="{HEIGHT / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {HEIGHT / 2})">speedup</text>',
    ]
    for tick in range(0, int(top) + 1):
        parts.append(
            f'<text x="{PAD - 6}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{tick}x</text>'
        )
    best = 0.0
    steps: list[str] = []
    for a in attempts:
        if a.speedup is None:
            why = html.escape(a.check or "not timed")
            parts.append(
                f'<text x="{x(a.index):.1f}" y="{HEIGHT - PAD + 14}" font-size="11" fill="#c33" '
                f'text-anchor="middle"><title>{html.escape(a.candidate_id)}: {why}</title>×</text>'
            )
            continue
        colour = "#888" if a.is_baseline else ("#2a7" if a.passed else "#c33")
        parts.append(
            f'<circle cx="{x(a.index):.1f}" cy="{y(a.speedup):.1f}" r="4" fill="{colour}">'
            f"<title>{html.escape(a.candidate_id)}: {a.speedup:.2f}x</title></circle>"
        )
        if a.passed and not a.is_baseline and a.speedup > best:
            best = a.speedup
        if best:
            steps.append(f"{x(a.index):.1f},{y(best):.1f}")
    if steps:
        parts.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="#2a7" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_report(result: OptimizeResult, original_text: str) -> str:
    rows = "\n".join(
        f"<tr><td>{a.index}</td><td>{a.round}</td><td><code>{html.escape(a.candidate_id)}</code></td>"
        f"<td>{_verdict_word(a)}</td><td>{_time(a.median_us)}</td><td>{_fmt(a.speedup, 'x')}</td></tr>"
        for a in result.attempts
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    diff = ""
    if result.new_file_text is not None:
        diff = "".join(
            difflib.unified_diff(
                original_text.splitlines(keepends=True),
                result.new_file_text.splitlines(keepends=True),
                fromfile=result.path,
                tofile=result.path + " (optimized)",
            )
        )
    usage = result.usage
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>kernelwright optimize: {html.escape(result.symbol)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>Optimize <code>{html.escape(result.symbol)}</code></h1>
<p>{html.escape(result.path)} on {html.escape(result.device)}, {when}</p>
<p><strong>{html.escape(result.status.value)}</strong>: {html.escape(result.message)}</p>
<table>
<tr><th>original</th><td>{_time(result.baseline_us)}</td></tr>
<tr><th>best</th><td>{_time(result.best_us)} ({_fmt(result.best_speedup, "x")})</td></tr>
<tr><th>rounds / candidates</th><td>{result.rounds} / {result.candidates}</td></tr>
<tr><th>time</th><td>{result.seconds:.0f} s</td></tr>
<tr><th>tokens / cost</th><td>{usage.total_tokens} / ${usage.cost_usd:.4f}</td></tr>
</table>
<h2>Speedup against attempts</h2>
<p>Each point is a verified candidate timed against the original in the same worker run; crosses
did not verify. The line is the best so far.</p>
{speedup_plot(result.attempts)}
<h2>Attempts</h2>
<table><tr><th>#</th><th>round</th><th>candidate</th><th>verdict</th><th>median</th><th>speedup</th></tr>
{rows}
</table>
{"<h2>Diff</h2><pre>" + html.escape(diff) + "</pre>" if diff else ""}
</body></html>
"""
