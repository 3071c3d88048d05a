// The Python extension's active interpreter, through its API package, when that extension is installed.
import * as vscode from "vscode";
import { PythonExtension } from "@vscode/python-extension";

import type { ActiveInterpreter } from "./interpreter";

export const PYTHON_EXTENSION_ID = "ms-python.python";

export interface PythonExtensionLink extends ActiveInterpreter {
  /** Fires when the person picks another interpreter there. */
  readonly onDidChange: vscode.Event<void>;
}

export async function linkPythonExtension(): Promise<PythonExtensionLink | undefined> {
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID) === undefined) {
    return undefined;
  }
  const api = await PythonExtension.api();
  const changed = new vscode.EventEmitter<void>();
  api.environments.onDidChangeActiveEnvironmentPath(() => {
    changed.fire();
  });
  return {
    onDidChange: changed.event,
    async executable(resource?: string): Promise<string | undefined> {
      const uri = resource !== undefined ? vscode.Uri.parse(resource) : undefined;
      const active = api.environments.getActiveEnvironmentPath(uri);
      const resolved = await api.environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath ?? undefined;
    },
  };
}
