import { beforeEach, describe, expect, it } from "vitest";
import * as vscode from "vscode";

import * as stub from "./vscodeStub";

import { applyOutcome, diffTitle, proposalUri, PROPOSAL_SCHEME, ReviewFlow, type Review } from "../../src/review";

const review: Review = {
  found: true,
  placed: true,
  result: "a1b2c3",
  site: "double",
  uri: "file:///work/samples/double.py",
  version: 3,
  proposedText: "import torch\n\ndef double(x):\n    return x * 2\n",
  summary: "2.10x faster (1.52 ms -> 724 µs on CPU)",
  speedup: 2.1049,
  baselineUs: 1523.4,
  bestUs: 723.9,
  device: "CPU (2 cores)",
  rooflineFraction: 0.413,
};

describe("the diff's title", () => {
  it("carries the measured speedup, the times, the roofline fraction and the device", () => {
    expect(diffTitle(review)).toBe("double: 2.10x faster (1.52 ms -> 724 µs) · 41% of roofline · CPU (2 cores) — current ↔ proposed");
  });
  it("leaves out what was not measured", () => {
    expect(diffTitle({ ...review, rooflineFraction: null, baselineUs: null })).toBe(
      "double: 2.10x faster · CPU (2 cores) — current ↔ proposed",
    );
  });
  it("the proposal's address differs per result and per version", () => {
    const first = proposalUri(review);
    expect(first.scheme).toBe(PROPOSAL_SCHEME);
    expect(first.path).toBe("/work/samples/double.py");
    expect(proposalUri({ ...review, version: 4 }).toString()).not.toBe(first.toString());
  });
});

describe("what Accept says when nothing was applied", () => {
  it("offers to review again after an edit, and names an edit during the run", () => {
    expect(applyOutcome("double", { applied: true })).toBeUndefined();
    expect(applyOutcome("double", { applied: false, reason: "changed since review" })).toEqual({
      text: "kernelwright: double changed after the diff was shown, so nothing was applied.",
      retry: true,
    });
    expect(applyOutcome("double", { applied: false, reason: "site changed" })?.retry).toBe(false);
  });
});

describe("ReviewFlow", () => {
  const calls: [string, unknown[]][] = [];
  const answers: Record<string, unknown> = {};
  const server = {
    command: <T,>(command: string, args: unknown[]): Promise<T> => {
      calls.push([command, args]);
      return Promise.resolve(answers[command] as T);
    },
  };
  beforeEach(() => {
    calls.length = 0;
    stub.commands.executeCommand.mockClear();
    stub.window.showInformationMessage.mockReset();
  });

  it("shows the current file against the proposal, with the title, then Accept applies at the shown version", async () => {
    answers["kernelwright.reviewResult"] = review;
    answers["kernelwright.applyResult"] = { applied: true, result: "a1b2c3" };
    stub.window.showInformationMessage.mockResolvedValueOnce("Accept");
    const flow = new ReviewFlow(server);
    await flow.ready({ id: "a1b2c3", site: "double", uri: review.uri ?? "", summary: "" });
    const diff = stub.commands.executeCommand.mock.calls.find((c) => c[0] === "vscode.diff");
    expect(diff).toBeDefined();
    const [, left, right, title] = diff as [string, vscode.Uri, vscode.Uri, string];
    expect(left.toString()).toBe(vscode.Uri.parse(review.uri ?? "").toString());
    expect(title).toBe(diffTitle(review));
    expect(calls).toEqual([
      ["kernelwright.reviewResult", ["a1b2c3"]],
      ["kernelwright.applyResult", [{ id: "a1b2c3", version: 3 }]],
    ]);
    // The proposal document held the server's text while it was shown; it is gone once answered.
    expect(flow.provideTextDocumentContent(right)).toBe("");
  });

  it("Reject drops the result on the server and applies nothing", async () => {
    answers["kernelwright.reviewResult"] = review;
    let shownText: string | undefined;
    const flow = new ReviewFlow(server);
    stub.window.showInformationMessage.mockImplementationOnce(() => {
      const right = proposalUri(review);
      shownText = flow.provideTextDocumentContent(right);
      return Promise.resolve("Reject");
    });
    await flow.show("a1b2c3");
    expect(shownText).toBe(review.proposedText);
    expect(calls.map((c) => c[0])).toEqual(["kernelwright.reviewResult", "kernelwright.discardResult"]);
  });

  it("a result whose code moved on is not shown", async () => {
    answers["kernelwright.reviewResult"] = { found: true, placed: false, site: "double" };
    await new ReviewFlow(server).show("a1b2c3");
    expect(stub.commands.executeCommand.mock.calls.some((c) => c[0] === "vscode.diff")).toBe(false);
    expect(stub.window.showWarningMessage).toHaveBeenCalledWith(expect.stringContaining("was edited while optimize ran"));
  });
});
