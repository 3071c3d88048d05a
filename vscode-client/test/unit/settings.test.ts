import { describe, expect, it } from "vitest";

import { needsRestart, serverArguments, serverEnvironment, serverSettings } from "../../src/settings";

describe("settings to the server", () => {
  it("sends the server's keys as VS Code holds them and never the client's own", () => {
    const section = {
      interpreter: "/venv/bin/python",
      logLevel: "debug",
      trace: { server: "verbose" },
      provider: "builtin",
      model: "",
      device: "cuda:1",
      budgets: { rounds: 2, candidates: 6, wallSeconds: 120, tokens: null, costUsd: null },
      autoProfile: "onSave",
      allowUnconfined: false,
      get: () => undefined,
    };
    expect(serverSettings(section)).toEqual({
      provider: "builtin",
      model: "",
      device: "cuda:1",
      budgets: { rounds: 2, candidates: 6, wallSeconds: 120, tokens: null, costUsd: null },
      autoProfile: "onSave",
      allowUnconfined: false,
    });
  });
  it("restarts the server only for what it reads at start", () => {
    expect(needsRestart((s) => s === "kernelwright.interpreter")).toBe(true);
    expect(needsRestart((s) => s === "kernelwright.logLevel")).toBe(true);
    expect(needsRestart((s) => s === "kernelwright.budgets.rounds" || s === "kernelwright")).toBe(false);
  });
  it("launches `python -m kernelwright serve` at the chosen log level", () => {
    expect(serverArguments("debug")).toEqual(["-m", "kernelwright", "serve", "--stdio", "--log-level", "DEBUG"]);
    expect(serverArguments(undefined)).toEqual(["-m", "kernelwright", "serve", "--stdio", "--log-level", "WARNING"]);
    expect(serverArguments("nonsense").at(-1)).toBe("WARNING");
  });
  it("puts the stored keys into the server's environment only", () => {
    const base = { PATH: "/usr/bin", HOME: "/home/me", EMPTY: undefined };
    const env = serverEnvironment(base, { ANTHROPIC_API_KEY: "sk-ant-test-1234" });
    expect(env).toEqual({ PATH: "/usr/bin", HOME: "/home/me", PYTHONUNBUFFERED: "1", ANTHROPIC_API_KEY: "sk-ant-test-1234" });
    expect(base).not.toHaveProperty("ANTHROPIC_API_KEY");
  });
});
