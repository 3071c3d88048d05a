// Finding the kernel a palette command means: the server's own code lenses say where each site starts
// and which command runs it, so the client never parses Python or CUDA itself.

export interface LensLike {
  readonly line: number;
  readonly command?: string;
  readonly arguments?: readonly unknown[];
}

export interface SiteArgument {
  readonly uri: string;
  readonly site: string;
}

export function siteArgument(value: unknown): SiteArgument | undefined {
  if (value !== null && typeof value === "object") {
    const { uri, site } = value as Record<string, unknown>;
    if (typeof uri === "string" && typeof site === "string") {
      return { uri, site };
    }
  }
  return undefined;
}

/** The lens running `command` for the site that starts nearest at or above `line`. */
export function lensAt(lenses: readonly LensLike[], command: string, line: number): LensLike | undefined {
  let best: LensLike | undefined;
  for (const lens of lenses) {
    if (lens.command === command && lens.line <= line && (best === undefined || lens.line > best.line)) {
      best = lens;
    }
  }
  return best;
}

/** One lens per site running `command`, in file order (Profile this file runs them all). */
export function lensesFor(lenses: readonly LensLike[], command: string): LensLike[] {
  return lenses.filter((l) => l.command === command).sort((a, b) => a.line - b.line);
}
