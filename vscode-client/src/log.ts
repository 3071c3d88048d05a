// The kernelwright log: a LogOutputChannel that redacts every stored API key from whatever reaches it,
// the language client's traces and the server's stderr included.
import * as vscode from "vscode";

import { redact } from "./secrets";

export function redactingChannel(
  channel: vscode.LogOutputChannel,
  secrets: () => readonly string[],
): vscode.LogOutputChannel {
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") {
      return redact(value, secrets());
    }
    if (value instanceof Error) {
      const copy = new Error(redact(value.message, secrets()));
      copy.stack = value.stack !== undefined ? redact(value.stack, secrets()) : undefined;
      return copy;
    }
    return value;
  };
  return new Proxy(channel, {
    get(target, property, receiver): unknown {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") {
        return value;
      }
      return (...args: unknown[]): unknown => (value as (...a: unknown[]) => unknown).apply(target, args.map(clean));
    },
  });
}
