import { describe, expect, it } from "vitest";

import { chooseInterpreter, describeInterpreter, installCommand, notStartedMessage } from "../../src/interpreter";
import { classifyProbe } from "../../src/probe";

const python = (path: string | undefined) => ({ executable: () => Promise.resolve(path) });

describe("chooseInterpreter", () => {
  it("takes the Python extension's active interpreter first, over the setting", async () => {
    expect(await chooseInterpreter("/opt/setting/python", python("/venv/bin/python"))).toEqual({
      path: "/venv/bin/python",
      source: "python-extension",
    });
  });
  it("falls back to the setting when the Python extension has no active interpreter or fails", async () => {
    expect(await chooseInterpreter(" /opt/py ", python(undefined))).toEqual({ path: "/opt/py", source: "setting" });
    const failing = { executable: () => Promise.reject(new Error("not ready")) };
    expect(await chooseInterpreter("/opt/py", failing)).toEqual({ path: "/opt/py", source: "setting" });
  });
  it("uses the setting when the Python extension is not installed, else python3", async () => {
    expect(await chooseInterpreter("/opt/py", undefined)).toEqual({ path: "/opt/py", source: "setting" });
    expect(await chooseInterpreter("   ", undefined)).toEqual({ path: "python3", source: "default" });
    expect(await chooseInterpreter(undefined, python(""))).toEqual({ path: "python3", source: "default" });
  });
});

describe("the message when kernelwright cannot start there", () => {
  const chosen = { path: "/home/me/my env/bin/python", source: "setting" as const };
  it("names the interpreter, where it came from, and a command that installs kernelwright into it", () => {
    const install = installCommand(chosen, "/ext/bundled/kernelwright-0.1.0-py3-none-any.whl");
    expect(install).toBe("'/home/me/my env/bin/python' -m pip install /ext/bundled/kernelwright-0.1.0-py3-none-any.whl");
    const text = notStartedMessage(chosen, { ok: false, reason: "not-installed", detail: "" }, install);
    expect(text).toBe(
      "kernelwright is not installed in /home/me/my env/bin/python (the kernelwright.interpreter setting). " +
        `Install it with: ${install}`,
    );
  });
  it("says when the interpreter itself is missing, and how to pick another", () => {
    const text = notStartedMessage(chosen, { ok: false, reason: "no-interpreter", detail: "spawn ENOENT" }, "");
    expect(text).toContain("does not exist or cannot run");
    expect(text).toContain("Python: Select Interpreter");
  });
  it("quotes the import error's last line when kernelwright is broken there", () => {
    const detail = "Traceback (most recent call last):\n  ...\nImportError: cannot import name 'x' from 'pygls'";
    const text = notStartedMessage(
      { path: "python3", source: "default" },
      { ok: false, reason: "broken", detail },
      installCommand({ path: "python3", source: "default" }, undefined),
    );
    expect(text).toContain("fails to import (ImportError: cannot import name 'x' from 'pygls')");
    expect(text).toContain("Reinstall it with: python3 -m pip install kernelwright");
  });
  it("describes each source", () => {
    expect(describeInterpreter({ path: "/v/python", source: "python-extension" })).toContain("Python extension's active");
    expect(describeInterpreter({ path: "python3", source: "default" })).toContain("the default");
  });
});

describe("classifyProbe", () => {
  it("tells a missing interpreter, a missing package and a broken one apart", () => {
    const enoent = Object.assign(new Error("spawn /x ENOENT"), { code: "ENOENT" });
    expect(classifyProbe(enoent, "", "")).toMatchObject({ ok: false, reason: "no-interpreter" });
    const exit = Object.assign(new Error("Command failed"), { code: 1 });
    expect(classifyProbe(exit, "", "ModuleNotFoundError: No module named 'kernelwright'\n")).toMatchObject({
      ok: false,
      reason: "not-installed",
    });
    expect(classifyProbe(exit, "", "ModuleNotFoundError: No module named 'pygls'\n")).toMatchObject({
      ok: false,
      reason: "broken",
    });
    expect(classifyProbe(null, "0.1.0", "")).toEqual({ ok: true, version: "0.1.0" });
  });
});
