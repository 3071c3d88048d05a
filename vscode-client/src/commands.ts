// The palette's commands. Lens and code-action clicks run the server's commands directly; these find
// the site at the cursor (through the server's lenses) and run the same ones.
import * as vscode from "vscode";

import { lensAt, lensesFor, siteArgument, type LensLike } from "./sites";

export const SERVER_COMMANDS = {
  profile: "kernelwright.profile",
  optimize: "kernelwright.optimize",
  cancel: "kernelwright.cancel",
  showHistory: "kernelwright.showHistory",
} as const;

async function lensesOf(document: vscode.TextDocument): Promise<LensLike[]> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[] | undefined>(
    "vscode.executeCodeLensProvider",
    document.uri,
    100,
  )) ?? [];
  return lenses.map((lens) => ({
    line: lens.range.start.line,
    command: lens.command?.command,
    arguments: lens.command?.arguments,
  }));
}

function activeEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage("kernelwright: open a PyTorch, Triton or CUDA file first.");
  }
  return editor;
}

/** Run `command` on the site at the cursor; say so when there is none. */
export async function runAtCursor(command: string, verb: string): Promise<void> {
  const editor = activeEditor();
  if (editor === undefined) {
    return;
  }
  const lens = lensAt(await lensesOf(editor.document), command, editor.selection.active.line);
  if (lens === undefined) {
    void vscode.window.showInformationMessage(
      `kernelwright: no kernel to ${verb} at or above the cursor in ${vscode.workspace.asRelativePath(editor.document.uri)} ` +
        "(a kernel with a bench spec shows Profile and Optimize above it).",
    );
    return;
  }
  await vscode.commands.executeCommand(command, ...(lens.arguments ?? []));
}

export async function profileFile(): Promise<void> {
  const editor = activeEditor();
  if (editor === undefined) {
    return;
  }
  const lenses = lensesFor(await lensesOf(editor.document), SERVER_COMMANDS.profile);
  if (lenses.length === 0) {
    void vscode.window.showInformationMessage(
      "kernelwright: nothing to profile in this file (no kernel has a bench spec; hover a kernel's name for the directive).",
    );
    return;
  }
  for (const lens of lenses) {
    await vscode.commands.executeCommand(SERVER_COMMANDS.profile, ...(lens.arguments ?? []));
  }
}

export async function showHistoryAtCursor(): Promise<void> {
  const editor = activeEditor();
  if (editor === undefined) {
    return;
  }
  // Any lens of the site names it: Profile is there whether or not it has been measured.
  const lens = lensAt(await lensesOf(editor.document), SERVER_COMMANDS.profile, editor.selection.active.line);
  const site = siteArgument(lens?.arguments?.[0]);
  if (site === undefined) {
    void vscode.window.showInformationMessage("kernelwright: no kernel at or above the cursor.");
    return;
  }
  await vscode.commands.executeCommand(SERVER_COMMANDS.showHistory, site);
}
