// A site's history as a view: its measurements over time (median with the p10-p90 spread, a small SVG
// chart) and its optimize runs (which candidate won, by how much, on which device), from the store
// through kernelwright.showHistory. `historyHtml` builds the page (tested); `HistoryView` shows it.
import * as vscode from "vscode";

import { formatMicros } from "./format";

export interface MeasurementRow {
  readonly created_at: number;
  readonly median_us: number;
  readonly p10_us: number;
  readonly p90_us: number;
  readonly repeats: number;
  readonly timed: boolean;
  readonly device: string;
  readonly roofline_fraction: number | null;
}

export interface AttemptRow {
  readonly started_at: number;
  readonly status: string;
  readonly provider: string;
  readonly model: string;
  readonly device: string;
  readonly best_candidate: string | null;
  readonly best_rationale: string;
  readonly best_speedup: number | null;
  readonly baseline_us: number | null;
  readonly best_us: number | null;
  readonly rounds: number;
  readonly candidates: number;
  readonly message: string;
}

export interface History {
  readonly site: string;
  readonly uri: string;
  readonly measurements: readonly MeasurementRow[];
  readonly attempts: readonly AttemptRow[];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function when(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 16);
}

const WIDTH = 560;
const HEIGHT = 180;
const PAD = 36;

/** Median over time with the p10-p90 band; one series per device (a CPU and a GPU never share a line). */
export function historyChart(rows: readonly MeasurementRow[]): string {
  const timed = rows.filter((r) => r.timed).slice().sort((a, b) => a.created_at - b.created_at);
  if (timed.length === 0) {
    return `<p class="empty">No timed measurements yet: profile the kernel to start its history.</p>`;
  }
  const t0 = timed[0]?.created_at ?? 0;
  const t1 = timed[timed.length - 1]?.created_at ?? t0;
  const top = Math.max(...timed.map((r) => r.p90_us)) * 1.1;
  const x = (t: number): number => (t1 === t0 ? WIDTH / 2 : PAD + ((t - t0) / (t1 - t0)) * (WIDTH - 2 * PAD));
  const y = (us: number): number => HEIGHT - PAD + 12 - (us / top) * (HEIGHT - PAD - 12);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="median time per call over time">`,
    `<line x1="${PAD}" y1="${y(0)}" x2="${WIDTH - PAD / 2}" y2="${y(0)}" class="axis"/>`,
    `<text x="4" y="${y(top / 1.1) + 4}" class="tick">${escapeHtml(formatMicros(top / 1.1))}</text>`,
    `<text x="4" y="${y(0)}" class="tick">0</text>`,
  ];
  const devices = [...new Set(timed.map((r) => r.device))];
  devices.forEach((device, index) => {
    const series = timed.filter((r) => r.device === device);
    const points = series.map((r) => `${x(r.created_at).toFixed(1)},${y(r.median_us).toFixed(1)}`).join(" ");
    parts.push(`<g class="series s${index % 4}"><title>${escapeHtml(device)}</title>`);
    for (const r of series) {
      const cx = x(r.created_at).toFixed(1);
      parts.push(`<line x1="${cx}" y1="${y(r.p10_us).toFixed(1)}" x2="${cx}" y2="${y(r.p90_us).toFixed(1)}" class="spread"/>`);
      parts.push(
        `<circle cx="${cx}" cy="${y(r.median_us).toFixed(1)}" r="3"><title>${escapeHtml(
          `${formatMicros(r.median_us)} (p10 ${formatMicros(r.p10_us)}, p90 ${formatMicros(r.p90_us)}, n=${r.repeats}) on ${r.device}, ${when(r.created_at)}`,
        )}</title></circle>`,
      );
    }
    if (series.length > 1) {
      parts.push(`<polyline points="${points}" class="median"/>`);
    }
    parts.push(`</g>`);
  });
  parts.push(`<text x="${PAD}" y="${HEIGHT - 4}" class="tick">${escapeHtml(when(t0))}</text>`);
  if (t1 !== t0) {
    parts.push(`<text x="${WIDTH - PAD}" y="${HEIGHT - 4}" class="tick" text-anchor="end">${escapeHtml(when(t1))}</text>`);
  }
  parts.push(`</svg>`);
  const legend = devices.map((d, i) => `<span class="key s${i % 4}">●</span> ${escapeHtml(d)}`).join(" &nbsp; ");
  return parts.join("") + `<p class="legend">${legend} · bars: p10 to p90</p>`;
}

function attemptTable(rows: readonly AttemptRow[]): string {
  if (rows.length === 0) {
    return `<p class="empty">No optimize runs yet.</p>`;
  }
  const body = rows
    .map((a) => {
      const speed = a.best_speedup != null ? `${a.best_speedup.toFixed(2)}x` : "–";
      const times = a.baseline_us != null && a.best_us != null ? `${formatMicros(a.baseline_us)} → ${formatMicros(a.best_us)}` : "";
      const winner =
        a.best_candidate != null
          ? `<span title="${escapeHtml(a.best_rationale)}">${escapeHtml(a.best_candidate)}</span>` +
            (a.best_rationale ? `<div class="why">${escapeHtml(a.best_rationale)}</div>` : "")
          : "none";
      const who = a.model ? `${a.provider} (${a.model})` : a.provider;
      return (
        `<tr title="${escapeHtml(a.message)}"><td>${escapeHtml(when(a.started_at))}</td><td>${escapeHtml(a.status)}</td>` +
        `<td>${escapeHtml(who)}</td><td>${escapeHtml(a.device || "–")}</td><td>${escapeHtml(speed)}</td>` +
        `<td>${escapeHtml(times)}</td><td>${winner}</td><td>${a.candidates} in ${a.rounds}</td></tr>`
      );
    })
    .join("");
  return (
    `<table><thead><tr><th>started</th><th>status</th><th>provider</th><th>device</th><th>speedup</th>` +
    `<th>before → after</th><th>winner</th><th>candidates in rounds</th></tr></thead><tbody>${body}</tbody></table>`
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function historyHtml(history: History, cspSource: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; img-src ${cspSource} data:;">
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
.axis { stroke: var(--vscode-editorRuler-foreground, #888); }
.tick, .legend, .empty { fill: var(--vscode-descriptionForeground); color: var(--vscode-descriptionForeground); font-size: 11px; }
.spread { stroke-width: 2; opacity: 0.45; }
.median { fill: none; stroke-width: 1.5; }
.s0 { stroke: #4e9de6; fill: #4e9de6; color: #4e9de6; } .s1 { stroke: #e6894e; fill: #e6894e; color: #e6894e; }
.s2 { stroke: #5fbf6a; fill: #5fbf6a; color: #5fbf6a; } .s3 { stroke: #b46fd6; fill: #b46fd6; color: #b46fd6; }
polyline.median { fill: none; }
.why { color: var(--vscode-descriptionForeground); font-size: 11px; max-width: 28em; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 3px 8px; text-align: left; border-bottom: 1px solid var(--vscode-panel-border, #444); }
</style><title>${escapeHtml(history.site)} history</title></head><body>
<h2>${escapeHtml(history.site)}</h2>
<h3>Time per call (${plural(history.measurements.length, "measurement")})</h3>
${historyChart(history.measurements)}
<h3>Optimize runs (${history.attempts.length})</h3>
${attemptTable(history.attempts)}
</body></html>`;
}

export class HistoryView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  show(history: History): void {
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        "kernelwright.history",
        `History: ${history.site}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.panel.title = `History: ${history.site}`;
    this.panel.webview.html = historyHtml(history, this.panel.webview.cspSource);
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
