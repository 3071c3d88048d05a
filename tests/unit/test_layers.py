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


def _imports(path: Path, package: Path = PACKAGE) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # Resolve `from ..engine import x` against the module's own package.
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            base = parts[: len(parts) - node.level]
            out.append((".".join([*base, *(node.module or "").split(".")]).rstrip("."), node.lineno))
    return out


def _layer_of(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem == "cli" else "root"


def breaches(package: Path) -> list[str]:
    """Every import in the package tree at `package` that its layer may not make."""
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        layer = _layer_of(path, package)
        for module, line in _imports(path, package):
            top = module.split(".")[0]
            where = f"{path.relative_to(package.parent)}:{line}"
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
    return problems


def test_every_module_keeps_to_its_layer() -> None:
    assert sorted(PACKAGE.rglob("*.py")), "no source found"
    problems = breaches(PACKAGE)
    assert not problems, "layer rules of DESIGN.md broken:\n" + "\n".join(problems)


def test_the_rules_catch_a_breach(tmp_path: Path) -> None:
    """The checker run on a package that breaks each rule once, beside modules that keep them."""
    package = tmp_path / "kernelwright"
    for rel, text in {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/bad.py": "import torch\nfrom kernelwright.lsp import server\n",
        "core/fine.py": "from kernelwright.core import bad\n",
        "harness/ok.py": "import torch\nfrom kernelwright.core import fine\n",
        "engine/up.py": "from ..optimize import loop\n",
        "lsp/ok.py": "import pygls\nfrom kernelwright.optimize import loop\n",
    }.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert breaches(package) == [
        "kernelwright/core/bad.py:1: layer `core` imports `torch`",
        "kernelwright/core/bad.py:2: layer `core` imports `kernelwright.lsp`",
        "kernelwright/engine/up.py:1: layer `engine` imports `kernelwright.optimize`",
    ]
