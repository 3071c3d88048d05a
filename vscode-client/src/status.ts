// The language status item: the server's state, where kernels are measured, a running optimize; its
// link opens the log. `describeStatus` holds the wording (tested); `StatusItem` shows it.
import * as vscode from "vscode";

export type ServerState =
  | { readonly kind: "starting"; readonly interpreter: string }
  | { readonly kind: "ready"; readonly interpreter: string; readonly version: string }
  | { readonly kind: "not-started"; readonly reason: string }
  | { readonly kind: "stopped" }
  | { readonly kind: "crashed"; readonly reason: string };

export interface StatusView {
  readonly server: ServerState;
  readonly device: string; // the setting: auto | cpu | cuda | cuda:N
  readonly measuredOn?: string; // the device of the last result, once one came back
  readonly confinement?: string; // "candidates run in the box" or why not
  readonly optimizing?: { readonly site: string; readonly message: string };
}

export interface StatusText {
  readonly text: string;
  readonly detail: string;
  readonly severity: "info" | "warning" | "error";
  readonly busy: boolean;
}

export function describeDevice(setting: string, measuredOn: string | undefined): string {
  if (measuredOn !== undefined && measuredOn !== "") {
    return measuredOn;
  }
  return setting === "auto" ? "auto (the first GPU, else the CPU)" : setting;
}

export function describeStatus(view: StatusView): StatusText {
  const device = describeDevice(view.device, view.measuredOn);
  const box = view.confinement !== undefined ? ` · ${view.confinement}` : "";
  const server = view.server;
  switch (server.kind) {
    case "starting":
      return { text: "kernelwright: starting", detail: `in ${server.interpreter}`, severity: "info", busy: true };
    case "not-started":
      return { text: "kernelwright: not running", detail: server.reason, severity: "error", busy: false };
    case "stopped":
      return { text: "kernelwright: stopped", detail: "Restart it with 'kernelwright: Restart server'", severity: "warning", busy: false };
    case "crashed":
      return { text: "kernelwright: crashed", detail: `${server.reason}; see the log`, severity: "error", busy: false };
    case "ready":
      if (view.optimizing !== undefined) {
        return {
          text: `kernelwright: optimizing ${view.optimizing.site}`,
          detail: `${view.optimizing.message} · device ${device}`,
          severity: "info",
          busy: true,
        };
      }
      return {
        text: "kernelwright: ready",
        detail: `device ${device}${box} · server ${server.version} in ${server.interpreter}`,
        severity: view.confinement?.startsWith("unconfined") === true ? "warning" : "info",
        busy: false,
      };
  }
}

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.LanguageStatusItem;
  private view: StatusView;

  constructor(selector: vscode.DocumentSelector, device: string) {
    this.item = vscode.languages.createLanguageStatusItem("kernelwright.status", selector);
    this.item.name = "kernelwright";
    this.item.command = { title: "Open log", command: "kernelwright.openLog" };
    this.view = { server: { kind: "stopped" }, device };
    this.render();
  }

  update(change: Partial<StatusView>): void {
    this.view = { ...this.view, ...change };
    this.render();
  }

  current(): StatusView {
    return this.view;
  }

  private render(): void {
    const shown = describeStatus(this.view);
    this.item.text = shown.text;
    this.item.detail = shown.detail;
    this.item.busy = shown.busy;
    this.item.severity =
      shown.severity === "error"
        ? vscode.LanguageStatusSeverity.Error
        : shown.severity === "warning"
          ? vscode.LanguageStatusSeverity.Warning
          : vscode.LanguageStatusSeverity.Information;
  }

  dispose(): void {
    this.item.dispose();
  }
}
