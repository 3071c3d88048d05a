import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import * as stub from "./vscodeStub";
import type { LanguageClient } from "vscode-languageclient/node";

import { incrementFor, OptimizeProgress, siteOfTitle, type ProgressValue } from "../../src/progress";

describe("progress", () => {
  it("turns the server's percentages into VS Code's increments", () => {
    expect(incrementFor(0, 25)).toBe(25);
    expect(incrementFor(25, 50)).toBe(25);
    expect(incrementFor(50, 50)).toBe(0);
    expect(incrementFor(50, undefined)).toBe(0);
    expect(incrementFor(90, 140)).toBe(10);
  });
  it("names the site from the title", () => {
    expect(siteOfTitle("Optimizing bias_gelu")).toBe("bias_gelu");
  });

  it("shows a cancellable notification fed by $/progress, and Cancel tells the server", async () => {
    let create: ((params: { token: string }) => void) | undefined;
    let feed: ((value: ProgressValue) => void) | undefined;
    const sent: unknown[] = [];
    const client = {
      onRequest: vi.fn((_type: unknown, handler: (params: { token: string }) => void) => { create = handler; }),
      onProgress: vi.fn((_type: unknown, _token: string, handler: (value: ProgressValue) => void) => {
        feed = handler;
        return { dispose: () => undefined };
      }),
      sendNotification: vi.fn((_type: unknown, params: unknown) => { sent.push(params); return Promise.resolve(); }),
    } as unknown as LanguageClient;
    const reports: { message?: string; increment?: number }[] = [];
    let cancel: (() => void) | undefined;
    let finished: Promise<void> | undefined;
    stub.window.withProgress.mockImplementation((options: { location: number; title: string; cancellable: boolean }, task: (p: unknown, t: unknown) => Promise<void>) => {
      expect(options).toEqual({ location: vscode.ProgressLocation.Notification, title: "Optimizing double", cancellable: true });
      finished = task(
        { report: (value: { message?: string; increment?: number }) => reports.push(value) },
        { onCancellationRequested: (listener: () => void) => { cancel = listener; } },
      );
      return finished;
    });
    const seen: string[] = [];
    const progress = new OptimizeProgress({
      started: (_t, site, message) => seen.push(`start ${site}: ${message}`),
      reported: (_t, site, message) => seen.push(`report ${site}: ${message}`),
      ended: (_t, site, message) => seen.push(`end ${site}: ${message}`),
    });
    progress.attach(client);
    create?.({ token: "kernelwright/abc" });
    feed?.({ kind: "begin", title: "Optimizing double", message: "builtin provider, up to 2 rounds", cancellable: true, percentage: 0 });
    feed?.({ kind: "report", message: "round 1/2 · 1 of 2 candidates passed · best 3.10x", percentage: 0 });
    feed?.({ kind: "report", message: "round 2/2 · 2 of 4 candidates passed · best 3.10x", percentage: 50 });
    cancel?.();
    expect(sent).toEqual([{ token: "kernelwright/abc" }]);
    feed?.({ kind: "end", message: "cancelled" });
    await finished;
    expect(reports).toEqual([
      { message: "builtin provider, up to 2 rounds", increment: 0 },
      { message: "round 1/2 · 1 of 2 candidates passed · best 3.10x", increment: 0 },
      { message: "round 2/2 · 2 of 4 candidates passed · best 3.10x", increment: 50 },
    ]);
    expect(seen).toEqual([
      "start double: builtin provider, up to 2 rounds",
      "report double: round 1/2 · 1 of 2 candidates passed · best 3.10x",
      "report double: round 2/2 · 2 of 4 candidates passed · best 3.10x",
      "end double: cancelled",
    ]);
  });
});
