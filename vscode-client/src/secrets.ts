// API keys: kept in VS Code's SecretStorage, handed to the server only through its environment at start.
// They never go into settings, and every line the log receives is redacted of them (log.ts).

export type KeyedProvider = "anthropic" | "openai";

export const KEYED_PROVIDERS: readonly KeyedProvider[] = ["anthropic", "openai"];

/** The environment variable the server's provider reads (the SDKs' own names). */
export const KEY_VARIABLES: Readonly<Record<KeyedProvider, string>> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
};

/** SecretStorage, as far as this module needs it. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

export function secretName(provider: KeyedProvider): string {
  return `kernelwright.apiKey.${provider}`;
}

export function keyedProvider(provider: unknown): KeyedProvider | undefined {
  return KEYED_PROVIDERS.find((p) => p === provider);
}

/** What is wrong with a pasted key, or undefined when it can be stored. */
export function validateKey(text: string): string | undefined {
  const key = text.trim();
  if (key === "") {
    return "Paste the key, or press Escape to keep the current one.";
  }
  if (/\s/.test(key)) {
    return "A key has no spaces or line breaks in it: paste only the key.";
  }
  if (key.length < 8) {
    return "That is too short to be an API key.";
  }
  return undefined;
}

export class ApiKeys {
  private readonly known = new Set<string>();

  constructor(private readonly store: SecretStore) {}

  async set(provider: KeyedProvider, key: string): Promise<void> {
    const value = key.trim();
    this.known.add(value);
    await this.store.store(secretName(provider), value);
  }

  async clear(provider: KeyedProvider): Promise<boolean> {
    const had = (await this.store.get(secretName(provider))) !== undefined;
    await this.store.delete(secretName(provider));
    return had;
  }

  async has(provider: KeyedProvider): Promise<boolean> {
    return (await this.store.get(secretName(provider))) !== undefined;
  }

  /** The variables to add to the server's environment: one per stored key. */
  async environment(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const provider of KEYED_PROVIDERS) {
      const value = await this.store.get(secretName(provider));
      if (value !== undefined && value !== "") {
        this.known.add(value);
        env[KEY_VARIABLES[provider]] = value;
      }
    }
    return env;
  }

  /** Every key this session has seen, for redaction (kept even after Clear: old lines may hold it). */
  values(): string[] {
    return [...this.known];
  }
}

export const REDACTED = "[redacted]";

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) {
      out = out.split(secret).join(REDACTED);
    }
  }
  return out;
}
