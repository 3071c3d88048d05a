import { describe, expect, it } from "vitest";

import { lensAt, lensesFor, siteArgument } from "../../src/sites";

const arg = (site: string) => [{ uri: "file:///w/a.py", site }];
const lenses = [
  { line: 3, command: "kernelwright.profile", arguments: arg("first") },
  { line: 3, command: "kernelwright.optimize", arguments: arg("first") },
  { line: 3, command: "kernelwright.showHistory", arguments: arg("first") },
  { line: 20, command: "kernelwright.profile", arguments: arg("second") },
  { line: 20, command: "kernelwright.optimize", arguments: arg("second") },
  { line: 12, command: "", arguments: [] },
];

describe("the site at the cursor", () => {
  it("is the one whose definition starts nearest at or above it", () => {
    expect(siteArgument(lensAt(lenses, "kernelwright.optimize", 25)?.arguments?.[0])?.site).toBe("second");
    expect(siteArgument(lensAt(lenses, "kernelwright.optimize", 20)?.arguments?.[0])?.site).toBe("second");
    expect(siteArgument(lensAt(lenses, "kernelwright.optimize", 19)?.arguments?.[0])?.site).toBe("first");
    expect(lensAt(lenses, "kernelwright.optimize", 2)).toBeUndefined();
  });
  it("Profile this file takes every site once, in order", () => {
    expect(lensesFor(lenses, "kernelwright.profile").map((l) => siteArgument(l.arguments?.[0])?.site)).toEqual(["first", "second"]);
  });
  it("reads only well-formed site arguments", () => {
    expect(siteArgument({ uri: "file:///a", site: "k" })).toEqual({ uri: "file:///a", site: "k" });
    expect(siteArgument({ uri: 1, site: "k" })).toBeUndefined();
    expect(siteArgument("k")).toBeUndefined();
  });
});
