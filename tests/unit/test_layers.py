"""DESIGN.md's import rules, read from the source: a layer that reaches where it must not fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernelwright"

# layer -> the kernelwright layers it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "analysis": {"core"},
    "harness": {"core"},
    "engine": {"core"},
    "store": {"core"},
    "optimize": {"core", "engine", "store", "analysis"},
    "lsp": {"core", "analysis", "engine", "store", "optimize"},
    "cli": {"core", "analysis", "engine", "store", "optimize", "lsp"},
}
THIRD_PARTY_ONLY_IN = {
    "pygls": {"lsp"},
    "lsprotocol": {"lsp"},
    # torch and triton: only the harness (worker processes) may import them.
    "torch": {"harness"},
    "triton": {"harness"},
}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # Resolve `from ..engine import x` against the module's own package.
            package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
            base = package[: len(package) - node.level]
            out.append((".".join([*base, *(node.module or "").split(".")]).rstrip("."), node.lineno))
    return out


def _layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem == "cli" else "root"


def test_every_module_keeps_to_its_layer() -> None:
    problems: list[str] = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, "no source found"
    for path in files:
        layer = _layer_of(path)
        for module, line in _imports(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if top == "kernelwright":
                parts = module.split(".")
                if len(parts) < 2 or layer == "root":
                    continue
                target = parts[1]
                if target in ("__main__",) or target == layer:
                    continue
                allowed = ALLOWED.get(layer)
                if allowed is not None and target not in allowed:
                    problems.append(f"{where}: layer `{layer}` imports `{module}`")
            elif top in THIRD_PARTY_ONLY_IN and layer not in THIRD_PARTY_ONLY_IN[top]:
                problems.append(f"{where}: layer `{layer}` imports `{top}`")
    assert not problems, "layer rules of DESIGN.md broken:\n" + "\n".join(problems)


def test_the_rules_catch_a_breach(tmp_path: Path) -> None:
    """The checker itself works: a core module importing torch is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom kernelwright.lsp import server\n")
    mods = [m for m, _ in _imports(bad)]
    assert mods == ["torch", "kernelwright.lsp"]
    assert "core" not in THIRD_PARTY_ONLY_IN["torch"]
    assert "lsp" not in ALLOWED["core"]
