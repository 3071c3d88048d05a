// The server's $/progress (an optimize run: round, candidates passed of tried, best speedup so far) as a
// cancellable notification. vscode-languageclient shows server-created progress in the status bar,
// where it cannot be cancelled; so its window/workDoneProgress/create handler is replaced by ours after
// each start. Cancel sends window/workDoneProgress/cancel, which stops the run and its workers.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
// The protocol's own package: the same values the client uses, without the client's `vscode` import.
import {
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from "vscode-languageserver-protocol";

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** "Optimizing bias_gelu" -> "bias_gelu", the site the status item names. */
export function siteOfTitle(title: string): string {
  return title.replace(/^Optimizing\s+/, "");
}

/** VS Code's progress takes increments; the server reports where it stands. */
export function incrementFor(previous: number, percentage: number | undefined): number {
  if (percentage === undefined || percentage <= previous) {
    return 0;
  }
  return Math.min(100, percentage) - previous;
}

export interface ProgressListener {
  started(token: string, site: string, message: string): void;
  reported(token: string, site: string, message: string): void;
  ended(token: string, site: string, message: string): void;
}

export class OptimizeProgress {
  private readonly open = new Map<string, () => void>();

  constructor(private readonly listener: ProgressListener) {}

  /** Call after every client start: the client's own handler is registered during start. */
  attach(client: LanguageClient): void {
    client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      this.follow(client, String(params.token));
    });
  }

  private follow(client: LanguageClient, token: string): void {
    let site = "";
    let reported = 0;
    let finish: (() => void) | undefined;
    let report: ((message: string, increment: number) => void) | undefined;
    let pending: string | undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const subscription = client.onProgress(WorkDoneProgress.type, token, (value: ProgressValue) => {
      if (value.kind === "begin") {
        site = siteOfTitle(value.title);
        this.listener.started(token, site, value.message ?? "");
        pending = value.message;
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: value.title, cancellable: value.cancellable === true },
          (progress, cancel) => {
            report = (message, increment) => { progress.report({ message, increment }); };
            if (pending !== undefined) {
              report(pending, 0);
            }
            cancel.onCancellationRequested(() => {
              void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
            });
            return done;
          },
        );
      } else if (value.kind === "report") {
        const message = value.message ?? "";
        const increment = incrementFor(reported, value.percentage);
        reported += increment;
        this.listener.reported(token, site, message);
        if (report !== undefined) {
          report(message, increment);
        } else {
          pending = message;
        }
      } else {
        this.listener.ended(token, site, value.message ?? "");
        subscription.dispose();
        this.open.delete(token);
        finish?.();
      }
    });
    this.open.set(token, () => {
      subscription.dispose();
      finish?.();
    });
  }

  /** The server went away: close every notification it left open. */
  closeAll(): void {
    for (const close of this.open.values()) {
      close();
    }
    this.open.clear();
  }
}
