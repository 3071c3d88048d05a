"""No module of the package runs past LIMIT lines without saying why it is one module (a paragraph of its
docstring starting "Why one module:"): a long module is either split along its seams or explains itself."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernelwright"
LIMIT = 400
MARK = "Why one module:"


def unexplained(package: Path = PACKAGE, limit: int = LIMIT) -> list[str]:
    """The modules over `limit` lines whose docstring gives no reason."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") + 1 <= limit:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if MARK not in doc:
            found.append(f"{path.relative_to(package)} ({text.count(chr(10)) + 1} lines)")
    return found


def test_every_long_module_says_why_it_is_one() -> None:
    assert unexplained() == [], f"split these or say '{MARK} ...' in their docstring"


def test_the_check_finds_a_long_module_without_a_reason(tmp_path: Path) -> None:
    (tmp_path / "long.py").write_text('"""A module."""\n' + "x = 1\n" * 500)
    (tmp_path / "explained.py").write_text(f'"""A module.\n\n{MARK} reasons.\n"""\n' + "x = 1\n" * 500)
    (tmp_path / "short.py").write_text('"""Short."""\n')
    assert unexplained(tmp_path) == ["long.py (502 lines)"]
