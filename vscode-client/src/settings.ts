// The kernelwright.* settings: which go to the server (workspace/configuration, initializationOptions),
// which only the client reads, which need a server restart, and how the server process is launched.

/** Keys of the `kernelwright` section that the client uses itself and never sends to the server. */
export const CLIENT_ONLY_KEYS: readonly string[] = ["interpreter", "logLevel", "trace"];

/** Settings read when the server starts: changing one restarts it. */
export const RESTART_SETTINGS: readonly string[] = ["kernelwright.interpreter", "kernelwright.logLevel"];

export type LogLevel = "error" | "warning" | "info" | "debug";

/** The section as the server takes it: client-only keys removed, the rest as VS Code holds it. */
export function serverSettings(section: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (!CLIENT_ONLY_KEYS.includes(key) && typeof value !== "function") {
      out[key] = value;
    }
  }
  return out;
}

export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_SETTINGS.some((key) => affects(key));
}

export function logLevelArgument(level: unknown): string {
  switch (level) {
    case "error":
      return "ERROR";
    case "info":
      return "INFO";
    case "debug":
      return "DEBUG";
    default:
      return "WARNING";
  }
}

/** `python -m kernelwright serve`: never a script path with sys.path surgery. */
export function serverArguments(level: unknown): string[] {
  return ["-m", "kernelwright", "serve", "--stdio", "--log-level", logLevelArgument(level)];
}

/** The server's environment: VS Code's, with the stored API keys added (and only there). */
export function serverEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  keys: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  env.PYTHONUNBUFFERED = "1";
  return { ...env, ...keys };
}
