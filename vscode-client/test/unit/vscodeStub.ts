// The few parts of the `vscode` module that the extension's modules touch, as plain objects that tests
// drive and inspect (vitest.config.mts maps `vscode` here). Not a VS Code: e2e/ runs the real one.
import { vi } from "vitest";

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query: string,
  ) {}
  static parse(text: string): Uri {
    const url = new URL(text);
    return new Uri(url.protocol.replace(/:$/, ""), decodeURIComponent(url.pathname), url.search.replace(/^\?/, ""));
  }
  static from(parts: { scheme: string; path?: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? "", parts.query ?? "");
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}${this.query ? `?${this.query}` : ""}`;
  }
}

export class EventEmitter<T> {
  private listeners: ((value: T) => void)[] = [];
  event = (listener: (value: T) => void): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const l of this.listeners) l(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class TabInputTextDiff {
  constructor(
    readonly original: Uri,
    readonly modified: Uri,
  ) {}
}

export enum LanguageStatusSeverity {
  Information = 0,
  Warning = 1,
  Error = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum ViewColumn {
  Beside = -2,
}

export const window = {
  showInformationMessage: vi.fn((..._args: unknown[]): Promise<string | undefined> => Promise.resolve(undefined)),
  showWarningMessage: vi.fn((..._args: unknown[]): Promise<string | undefined> => Promise.resolve(undefined)),
  showErrorMessage: vi.fn((..._args: unknown[]): Promise<string | undefined> => Promise.resolve(undefined)),
  withProgress: vi.fn(),
  tabGroups: { all: [] as { tabs: { input: unknown }[] }[], close: vi.fn(() => Promise.resolve(true)) },
  activeTextEditor: undefined as unknown,
};
export const commands = {
  executeCommand: vi.fn((..._args: unknown[]): Promise<unknown> => Promise.resolve(undefined)),
  registerCommand: vi.fn(),
};
export const workspace = {
  registerTextDocumentContentProvider: vi.fn(() => ({ dispose: () => undefined })),
  getConfiguration: vi.fn(),
};
export const languages = {
  createLanguageStatusItem: vi.fn(() => ({ dispose: () => undefined })),
};
export const extensions = { getExtension: vi.fn(() => undefined) };
