import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Unit tests run without VS Code: `vscode` resolves to a small stub of the few values the modules use.
export default defineConfig({
  resolve: { alias: { vscode: fileURLToPath(new URL("./test/unit/vscodeStub.ts", import.meta.url)) } },
  test: { include: ["test/unit/**/*.test.ts"] },
});
