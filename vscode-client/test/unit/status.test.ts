import { describe, expect, it } from "vitest";

import { describeDevice, describeStatus } from "../../src/status";

const ready = { kind: "ready" as const, interpreter: "/venv/bin/python", version: "0.1.0" };

describe("the status item's wording", () => {
  it("ready: the device, whether candidates are boxed, and which server runs where", () => {
    const shown = describeStatus({ server: ready, device: "auto", confinement: "candidates boxed (bubblewrap 0.8.0)" });
    expect(shown).toEqual({
      text: "kernelwright: ready",
      detail: "device auto (the first GPU, else the CPU) · candidates boxed (bubblewrap 0.8.0) · server 0.1.0 in /venv/bin/python",
      severity: "info",
      busy: false,
    });
  });
  it("warns when candidates cannot be boxed", () => {
    expect(describeStatus({ server: ready, device: "cpu", confinement: "unconfined: bwrap not found" }).severity).toBe("warning");
  });
  it("a running optimize: the site and the server's progress line, busy", () => {
    const shown = describeStatus({
      server: ready,
      device: "cuda",
      measuredOn: "NVIDIA H200",
      optimizing: { site: "bias_gelu", message: "round 2/4 · 3 of 5 candidates passed · best 2.10x" },
    });
    expect(shown.text).toBe("kernelwright: optimizing bias_gelu");
    expect(shown.detail).toBe("round 2/4 · 3 of 5 candidates passed · best 2.10x · device NVIDIA H200");
    expect(shown.busy).toBe(true);
  });
  it("starting, not started, stopped and crashed each say what to do", () => {
    expect(describeStatus({ server: { kind: "starting", interpreter: "python3" }, device: "auto" })).toMatchObject({
      text: "kernelwright: starting",
      busy: true,
    });
    const notStarted = describeStatus({ server: { kind: "not-started", reason: "kernelwright is not installed in python3" }, device: "auto" });
    expect(notStarted).toMatchObject({ text: "kernelwright: not running", severity: "error", detail: "kernelwright is not installed in python3" });
    expect(describeStatus({ server: { kind: "stopped" }, device: "auto" }).detail).toContain("Restart server");
    expect(describeStatus({ server: { kind: "crashed", reason: "the server process exited" }, device: "auto" }).detail).toBe(
      "the server process exited; see the log",
    );
  });
  it("names the device a result came from over the setting", () => {
    expect(describeDevice("auto", undefined)).toBe("auto (the first GPU, else the CPU)");
    expect(describeDevice("cuda:1", undefined)).toBe("cuda:1");
    expect(describeDevice("auto", "CPU (2 cores)")).toBe("CPU (2 cores)");
  });
});
