// Whether kernelwright imports in an interpreter, before the server is started there (a server that
// cannot start would otherwise fail as a stream of connection errors).
import { execFile } from "node:child_process";

import type { ProbeResult } from "./interpreter";

const PROBE = "import kernelwright, sys; sys.stdout.write(kernelwright.__version__)";

export function probeInterpreter(python: string, env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve(classifyProbe(error, stdout, stderr));
    });
  });
}

export function classifyProbe(
  error: (Error & { code?: unknown }) | null,
  stdout: string,
  stderr: string,
): ProbeResult {
  if (error === null) {
    return { ok: true, version: stdout.trim() };
  }
  if (error.code === "ENOENT" || error.code === "EACCES") {
    return { ok: false, reason: "no-interpreter", detail: error.message };
  }
  if (/ModuleNotFoundError: No module named '?kernelwright'?/.test(stderr)) {
    return { ok: false, reason: "not-installed", detail: stderr };
  }
  return { ok: false, reason: "broken", detail: stderr || error.message };
}
