import { describe, expect, it } from "vitest";

import { historyChart, historyHtml, type History } from "../../src/history";

const row = (t: number, median: number, device = "NVIDIA H200") => ({
  created_at: 1_780_000_000 + t,
  median_us: median,
  p10_us: median * 0.95,
  p90_us: median * 1.1,
  repeats: 50,
  timed: true,
  device,
  roofline_fraction: 0.5,
});

const history: History = {
  site: "bias_gelu",
  uri: "file:///w/bias_gelu.py",
  measurements: [row(0, 180), row(3600, 120), row(7200, 40, "CPU (2 cores)")],
  attempts: [
    {
      started_at: 1_780_003_000,
      status: "done",
      provider: "builtin",
      model: "",
      device: "NVIDIA H200",
      best_candidate: "c7",
      best_rationale: "torch.compile <script>alert(1)</script> max-autotune",
      best_speedup: 6.52,
      baseline_us: 180,
      best_us: 27.6,
      rounds: 2,
      candidates: 6,
      message: "improved 6.52x",
    },
  ],
};

describe("the history view", () => {
  it("draws one series per device, each point with its spread", () => {
    const svg = historyChart(history.measurements);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg.match(/class="spread"/g)).toHaveLength(3);
    expect(svg).toContain("s0");
    expect(svg).toContain("s1");
    expect(svg.match(/<polyline /g)).toHaveLength(1); // the H200's two points; the CPU's one has no line
  });
  it("lists optimize runs with the winner, its speedup and device, escaped", () => {
    const html = historyHtml(history, "vscode-resource:");
    expect(html).toContain("6.52x");
    expect(html).toContain(">c7</span>");
    expect(html).toContain('<div class="why">torch.compile &lt;script&gt;alert(1)&lt;/script&gt; max-autotune</div>');
    expect(html).toContain('title="improved 6.52x"');
    expect(html).not.toContain("<script>");
    expect(html).toContain("default-src 'none'");
  });
  it("says when there is nothing to draw yet", () => {
    expect(historyChart([])).toContain("No timed measurements yet");
    expect(historyHtml({ ...history, attempts: [] }, "x")).toContain("No optimize runs yet");
  });
});
