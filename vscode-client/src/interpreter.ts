// Which Python runs the server: the Python extension's active interpreter when that extension is
// installed, else the kernelwright.interpreter setting, else python3. Pure: the Python extension is
// reached through the small `ActiveInterpreter` interface (pythonExtension.ts implements it).

export type InterpreterSource = "python-extension" | "setting" | "default";

export interface Interpreter {
  readonly path: string;
  readonly source: InterpreterSource;
}

/** The Python extension, as far as this module needs it: the executable of its active environment. */
export interface ActiveInterpreter {
  executable(resource?: string): Promise<string | undefined>;
}

export const DEFAULT_PYTHON = "python3";

export async function chooseInterpreter(
  setting: string | undefined,
  pythonExtension: ActiveInterpreter | undefined,
  resource?: string,
): Promise<Interpreter> {
  if (pythonExtension !== undefined) {
    const path = await pythonExtension.executable(resource).catch(() => undefined);
    if (path !== undefined && path.trim() !== "") {
      return { path, source: "python-extension" };
    }
  }
  const configured = setting?.trim() ?? "";
  if (configured !== "") {
    return { path: configured, source: "setting" };
  }
  return { path: DEFAULT_PYTHON, source: "default" };
}

export function describeInterpreter(interpreter: Interpreter): string {
  switch (interpreter.source) {
    case "python-extension":
      return `${interpreter.path} (the Python extension's active interpreter)`;
    case "setting":
      return `${interpreter.path} (the kernelwright.interpreter setting)`;
    case "default":
      return `${interpreter.path} (the default: no Python extension, kernelwright.interpreter not set)`;
  }
}

/** How a person installs kernelwright into that interpreter: the wheel shipped in the extension, else PyPI. */
export function installCommand(interpreter: Interpreter, bundledWheel: string | undefined): string {
  const target = bundledWheel !== undefined ? quote(bundledWheel) : "kernelwright";
  return `${quote(interpreter.path)} -m pip install ${target}`;
}

export function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export type ProbeResult =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: "no-interpreter" | "not-installed" | "broken"; readonly detail: string };

/** The message a person sees when the server cannot start in that interpreter: cause, then the fix. */
export function notStartedMessage(interpreter: Interpreter, probe: ProbeResult, install: string): string {
  if (probe.ok) {
    return "";
  }
  const where = describeInterpreter(interpreter);
  switch (probe.reason) {
    case "no-interpreter":
      return (
        `kernelwright: the interpreter ${where} does not exist or cannot run. ` +
        `Pick another with "Python: Select Interpreter" or set kernelwright.interpreter.`
      );
    case "not-installed":
      return `kernelwright is not installed in ${where}. Install it with: ${install}`;
    case "broken":
      return (
        `kernelwright is installed in ${where} but fails to import (${firstLine(probe.detail)}). ` +
        `Reinstall it with: ${install}`
      );
  }
}

function firstLine(text: string): string {
  const lines = text.trim().split("\n");
  return (lines[lines.length - 1] ?? "").slice(0, 200);
}
