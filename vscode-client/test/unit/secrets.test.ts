import { describe, expect, it, vi } from "vitest";
import type * as vscode from "vscode";

import { redactingChannel } from "../../src/log";
import { ApiKeys, redact, REDACTED, validateKey, type SecretStore } from "../../src/secrets";

function memoryStore(): SecretStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: (key) => Promise.resolve(data.get(key)),
    store: (key, value) => { data.set(key, value); return Promise.resolve(); },
    delete: (key) => { data.delete(key); return Promise.resolve(); },
  };
}

describe("API keys", () => {
  it("are kept in secret storage under the provider's name and given to the server as its SDK's variable", async () => {
    const store = memoryStore();
    const keys = new ApiKeys(store);
    await keys.set("anthropic", "  sk-ant-api03-secret-value  ");
    expect(store.data.get("kernelwright.apiKey.anthropic")).toBe("sk-ant-api03-secret-value");
    expect(await keys.environment()).toEqual({ ANTHROPIC_API_KEY: "sk-ant-api03-secret-value" });
    await keys.set("openai", "sk-openai-other-value");
    expect(await keys.environment()).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-api03-secret-value",
      OPENAI_API_KEY: "sk-openai-other-value",
    });
  });
  it("cleared, leave the environment and say whether there was one", async () => {
    const keys = new ApiKeys(memoryStore());
    await keys.set("anthropic", "sk-ant-api03-secret-value");
    expect(await keys.clear("anthropic")).toBe(true);
    expect(await keys.clear("anthropic")).toBe(false);
    expect(await keys.environment()).toEqual({});
    // Still redacted: lines written before the clear may hold it.
    expect(keys.values()).toContain("sk-ant-api03-secret-value");
  });
  it("are checked before they are stored", () => {
    expect(validateKey("")).toMatch(/Paste the key/);
    expect(validateKey("sk-ant api03")).toMatch(/no spaces/);
    expect(validateKey("short")).toMatch(/too short/);
    expect(validateKey("sk-ant-api03-abcdef")).toBeUndefined();
  });
  it("never reach the log: every channel method is redacted, errors included", () => {
    const secret = "sk-ant-api03-secret-value";
    const lines: string[] = [];
    const channel = {
      name: "kernelwright",
      appendLine: vi.fn((line: string) => lines.push(line)),
      append: vi.fn((text: string) => lines.push(text)),
      error: vi.fn((e: string | Error) => lines.push(typeof e === "string" ? e : `${e.message}\n${e.stack ?? ""}`)),
      info: vi.fn((m: string, ...rest: unknown[]) => lines.push([m, ...rest.map(String)].join(" "))),
    } as unknown as vscode.LogOutputChannel;
    const log = redactingChannel(channel, () => [secret]);
    log.appendLine(`env ANTHROPIC_API_KEY=${secret}`);
    log.append(`x${secret}y`);
    log.info("starting", `key ${secret}`);
    log.error(new Error(`401 for key ${secret}`));
    expect(lines.join("\n")).not.toContain(secret);
    expect(lines[0]).toBe(`env ANTHROPIC_API_KEY=${REDACTED}`);
    expect(log.name).toBe("kernelwright");
  });
  it("redact every occurrence and leave short strings alone", () => {
    expect(redact("a KEY1234 b KEY1234", ["KEY1234"])).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(redact("abc", ["ab"])).toBe("abc");
  });
});
