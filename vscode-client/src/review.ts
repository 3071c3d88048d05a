// An optimize result, reviewed: the server announces it (kernelwright/resultReady), the client shows the
// current file against the file as it would read, titled with the measured speedup, device and roofline
// fraction, and asks Accept or Reject. Accept applies the server's edit, guarded by the document version
// the diff was shown at (an edit since then is refused, never clobbered); Reject drops it.
import * as vscode from "vscode";

import { formatMicros } from "./format";

export const PROPOSAL_SCHEME = "kernelwright-proposal";
export const RESULT_READY = "kernelwright/resultReady";

export interface ResultReady {
  readonly id: string;
  readonly site: string;
  readonly uri: string;
  readonly summary: string;
}

/** What kernelwright.reviewResult answers. */
export interface Review {
  readonly found: boolean;
  readonly placed?: boolean;
  readonly result?: string;
  readonly site?: string;
  readonly uri?: string;
  readonly version?: number | null;
  readonly proposedText?: string;
  readonly summary?: string;
  readonly speedup?: number | null;
  readonly baselineUs?: number | null;
  readonly bestUs?: number | null;
  readonly device?: string;
  readonly rooflineFraction?: number | null;
}

export interface ApplyAnswer {
  readonly applied: boolean;
  readonly reason?: string;
}

/** `double: 2.10x faster (1.52 ms -> 724 µs) · 41% of roofline · CPU — current ↔ proposed` */
export function diffTitle(review: Review): string {
  const parts: string[] = [];
  let speed = review.speedup != null ? `${review.speedup.toFixed(2)}x faster` : "faster";
  if (review.baselineUs != null && review.bestUs != null) {
    speed += ` (${formatMicros(review.baselineUs)} -> ${formatMicros(review.bestUs)})`;
  }
  parts.push(speed);
  if (review.rooflineFraction != null) {
    parts.push(`${Math.round(review.rooflineFraction * 100)}% of roofline`);
  }
  if (review.device !== undefined && review.device !== "") {
    parts.push(review.device);
  }
  return `${review.site ?? "kernel"}: ${parts.join(" · ")} — current ↔ proposed`;
}

/** The proposal's address: one per result and document version, so a re-review is a fresh document. */
export function proposalUri(review: Review): vscode.Uri {
  const file = vscode.Uri.parse(review.uri ?? "file:///unknown");
  return vscode.Uri.from({
    scheme: PROPOSAL_SCHEME,
    path: file.path,
    query: `result=${review.result ?? ""}&version=${String(review.version ?? "")}`,
  });
}

/** What to tell the person after Accept, given the server's answer (undefined: nothing to add). */
export function applyOutcome(site: string, answer: ApplyAnswer): { text: string; retry: boolean } | undefined {
  if (answer.applied) {
    return undefined;
  }
  if (answer.reason === "changed since review") {
    return { text: `kernelwright: ${site} changed after the diff was shown, so nothing was applied.`, retry: true };
  }
  if (answer.reason === "site changed") {
    return { text: `kernelwright: the code of ${site} was edited while optimize ran, so nothing was applied.`, retry: false };
  }
  return { text: `kernelwright: the edit for ${site} was not applied (${answer.reason ?? "unknown reason"}).`, retry: true };
}

export interface ReviewServer {
  command<T>(command: string, args: unknown[]): Promise<T>;
}

export class ReviewFlow implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly proposals = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private current: { review: Review; proposal: vscode.Uri } | undefined;
  private readonly disposables: { dispose(): unknown }[] = [];

  constructor(
    private readonly server: ReviewServer,
    private readonly onReview: (review: Review) => void = () => undefined,
  ) {
    this.disposables.push(vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this), this.changed);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposals.get(uri.toString()) ?? "";
  }

  /** The server announced a result: show it. */
  async ready(note: ResultReady): Promise<void> {
    await this.show(note.id);
  }

  async show(resultId: string): Promise<void> {
    const review = await this.server.command<Review>("kernelwright.reviewResult", [resultId]);
    if (!review.found) {
      void vscode.window.showWarningMessage(`kernelwright: the optimize result ${resultId} is no longer waiting.`);
      return;
    }
    if (review.placed !== true || review.proposedText === undefined || review.uri === undefined) {
      void vscode.window.showWarningMessage(
        `kernelwright: the code of ${review.site ?? "the kernel"} was edited while optimize ran; optimize it again.`,
      );
      return;
    }
    this.onReview(review);
    const proposal = proposalUri(review);
    this.proposals.set(proposal.toString(), review.proposedText);
    this.changed.fire(proposal);
    this.current = { review, proposal };
    await vscode.commands.executeCommand("setContext", "kernelwright.reviewing", true);
    await vscode.commands.executeCommand("vscode.diff", vscode.Uri.parse(review.uri), proposal, diffTitle(review), {
      preview: false,
    });
    const choice = await vscode.window.showInformationMessage(
      `kernelwright: ${diffTitle(review).replace(" — current ↔ proposed", "")}. Apply the verified kernel?`,
      "Accept",
      "Reject",
    );
    if (this.showing()?.proposal.toString() !== proposal.toString()) {
      return; // answered already, from the editor's title buttons
    }
    if (choice === "Accept") {
      await this.accept();
    } else if (choice === "Reject") {
      await this.reject();
    }
  }

  /** The result whose diff is open and unanswered (read after an await: the title buttons may answer). */
  private showing(): { review: Review; proposal: vscode.Uri } | undefined {
    return this.current;
  }

  async accept(): Promise<void> {
    const shown = this.current;
    if (shown === undefined) {
      void vscode.window.showInformationMessage("kernelwright: no optimize result is being reviewed.");
      return;
    }
    this.current = undefined;
    const { review } = shown;
    const answer = await this.server.command<ApplyAnswer>("kernelwright.applyResult", [
      { id: review.result, version: review.version ?? null },
    ]);
    await this.close(shown.proposal);
    const outcome = applyOutcome(review.site ?? "the kernel", answer);
    if (outcome === undefined) {
      return;
    }
    if (!outcome.retry) {
      void vscode.window.showWarningMessage(outcome.text);
      return;
    }
    const again = await vscode.window.showWarningMessage(outcome.text, "Review again");
    if (again === "Review again" && review.result !== undefined) {
      await this.show(review.result);
    }
  }

  async reject(): Promise<void> {
    const shown = this.current;
    if (shown === undefined) {
      return;
    }
    this.current = undefined;
    await this.server.command("kernelwright.discardResult", [shown.review.result]);
    await this.close(shown.proposal);
    void vscode.window.showInformationMessage(`kernelwright: rejected; ${shown.review.site ?? "the file"} is unchanged.`);
  }

  private async close(proposal: vscode.Uri): Promise<void> {
    await vscode.commands.executeCommand("setContext", "kernelwright.reviewing", false);
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
    const open = tabs.filter(
      (tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposal.toString(),
    );
    if (open.length > 0) {
      await vscode.window.tabGroups.close(open);
    }
    this.proposals.delete(proposal.toString());
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
