#!/usr/bin/env bash
# Builds dist/kernelwright.vsix: the bundled extension, and the kernelwright wheel it offers to install
# into an interpreter that lacks it (its dependencies come from PyPI). PYTHON: an interpreter with pip.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-../.venv/bin/python}
rm -rf bundled && mkdir -p bundled
"$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w bundled .. >/dev/null
node esbuild.mjs --production
# The README's pictures stay relative: VS Code shows them from the installed extension's own media/.
npx vsce package --no-dependencies --allow-missing-repository --no-rewrite-relative-links --out dist/kernelwright.vsix
ls -l dist/kernelwright.vsix
