"""What the documents point to is in the repository (issue 17): every path README.md and docs/*.md name
exists, every citation of docs/PITFALLS.md names an item it has, and no file refers to documents
outside the repository, which a clone would not have."""

from __future__ import annotations

import os
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve()
PITFALLS = ROOT / "docs" / "PITFALLS.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Paths the documents name in full, from the repository root, and the package's subfolders, which they
# also name from server/kernelwright/ ("harness/interleave.py").
TOP = ("server/", "tests/", "samples/", "benchmarks/", "docs/", "vscode-client/", ".ci/", "scripts/")
PACKAGE = ("core/", "analysis/", "harness/", "engine/", "optimize/", "store/", "lsp/", "cli/")
# Named by the documents, made by a build, so absent from a clone: the path and what makes it.
BUILT = {"vscode-client/dist/kernelwright.vsix": "make vscode-package"}
_ROOTS = "|".join(re.escape(r) for r in TOP + PACKAGE)
# A path starts where no path character precedes it (so `rewrites/flow.py` inside a longer path is not
# read again on its own), backticked, in a link or in plain text, and may end in `:line`, `:symbol` or
# `::test_name`.
PATH = re.compile(rf"(?<![\w./~<>-])((?:{_ROOTS})[\w./*-]*)((?:::?[\w\[\].-]+)?)")

# "docs/PITFALLS.md 23", "docs/PITFALLS.md 1-4, 23, 24, 26" and the older form "PITFALLS 9".
CITATION = re.compile(
    r"(?:docs/)?PITFALLS(?:\.md)?(?:\s+§?(\d+(?:\s*[-–]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*))?"
)
CITED_IN = ("server", "tests", "samples", "docs", "benchmarks", "scripts", ".ci")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cu", ".cuh", ".txt", ".sh", ".json", ".ts", ".lua", ".mjs", ""}
# Files that still cite in the older form ("PITFALLS n") because another change owns them now; each is to
# move to "docs/PITFALLS.md n" and leave this set.

# Spelled in pieces so that this file does not name them itself.
OUTSIDE = ("../" + "shared", "/work/" + "shared")


def missing_paths(text: str, root: Path = ROOT) -> list[str]:
    """The repository paths `text` names that do not exist under `root` (a `::test` suffix must name a
    function or class of the file), in the order named."""
    missing: list[str] = []
    for m in PATH.finditer(text):
        path, suffix = m.group(1).rstrip(".,;"), m.group(2)
        if path in BUILT:
            continue
        base = root if path.startswith(TOP) else root / "server" / "kernelwright"
        target = base / path
        if not (any(base.glob(path)) if "*" in path else target.exists()):
            missing.append(path)
            continue
        if suffix.startswith("::") and target.is_file():
            name = suffix[2:].split("[")[0].rstrip(".,;")
            if not re.search(
                rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", target.read_text(), re.M
            ):
                missing.append(f"{path}::{name}")
    return missing


def pitfall_items(text: str) -> list[int]:
    """The item numbers of docs/PITFALLS.md, from its headings ("### 9. Stale memory")."""
    return [int(n) for n in re.findall(r"^#{2,4}\s+(\d+)\.\s", text, re.M)]


def citations(text: str) -> list[tuple[str, list[int]]]:
    """Each citation of the pitfalls in `text`, as written, and the items it names (none for a mention of
    the document as a whole)."""
    found = []
    for m in CITATION.finditer(text):
        numbers: list[int] = []
        for part in (m.group(1) or "").split(","):
            ends = [int(n) for n in re.findall(r"\d+", part)]
            numbers.extend(range(ends[0], ends[-1] + 1) if ends else [])
        found.append((m.group(0), numbers))
    return found


def refers_outside(data: bytes) -> bool:
    return any(needle.encode() in data for needle in OUTSIDE)


def _cited_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in CITED_IN:
        files.extend(
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file()
            and p.suffix in TEXT_SUFFIXES
            and "__pycache__" not in p.parts
            and not any(part.endswith(".egg-info") for part in p.parts)
            and p != HERE
        )
    return files


def _all_citations() -> list[tuple[str, str, list[int]]]:
    return [
        (str(path.relative_to(ROOT)), written, numbers)
        for path in _cited_files()
        for written, numbers in citations(path.read_text(errors="replace"))
    ]


def _gitignore(folder: Path) -> list[str]:
    """The patterns of `folder`'s .gitignore, in the part of the syntax this repository uses: names and
    globs, a slash before or inside anchoring them to the folder, a trailing slash for folders only."""
    path = folder / ".gitignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith(("#", "!"))]


def _ignored(path: Path, is_dir: bool, rules: list[tuple[Path, str]]) -> bool:
    for base, pattern in rules:
        if pattern.endswith("/") and not is_dir:
            continue
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatch(path.relative_to(base).as_posix(), pattern.lstrip("/")):
                return True
        elif fnmatch(path.name, pattern):
            return True
    return False


def _repository_files() -> list[Path]:
    """The files of the working tree that belong to the repository: all but .git and what the .gitignore
    files leave out (the virtualenv, node_modules, caches, build outputs)."""
    rules: dict[Path, list[str]] = {}
    files: list[Path] = []
    for here, folders, names in os.walk(ROOT):
        folder = Path(here)
        rules[folder] = _gitignore(folder)
        active = [
            (base, p)
            for base, patterns in rules.items()
            if base in (folder, *folder.parents)
            for p in patterns
        ]
        folders[:] = [d for d in folders if d != ".git" and not _ignored(folder / d, True, active)]
        files.extend(folder / n for n in names if not _ignored(folder / n, False, active))
    return [p for p in files if p.is_file() and p != HERE]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_document_names_exists(doc: Path) -> None:
    missing = missing_paths(doc.read_text())
    assert not missing, f"{doc.relative_to(ROOT)} names what the repository does not have: {missing}"


def test_the_pitfalls_are_numbered_one_to_n() -> None:
    items = pitfall_items(PITFALLS.read_text())
    assert items and items == list(range(1, len(items) + 1)), items


def test_every_pitfalls_citation_names_an_item_that_exists() -> None:
    items = set(pitfall_items(PITFALLS.read_text()))
    found = _all_citations()
    assert len([c for c in found if c[2]]) >= 10, "the scan finds the citations the code is known to make"
    wrong = [f"{where}: {written!r}" for where, written, numbers in found if not set(numbers) <= items]
    assert not wrong, f"citations of items docs/PITFALLS.md does not have: {wrong}"


def test_the_pitfalls_are_cited_by_their_path_in_the_repository() -> None:
    older = {where for where, written, _ in _all_citations() if not written.startswith("docs/PITFALLS.md")}
    assert not older, f"cite as 'docs/PITFALLS.md n': {sorted(older)}"


def test_the_adversarial_catalogue_classes_name_items_that_exist() -> None:
    items = set(pitfall_items(PITFALLS.read_text()))
    cases = tomllib.loads((ROOT / "samples" / "adversarial" / "cases.toml").read_text())["candidates"]
    named = {
        name: [int(n) for group in re.findall(r"\(([\d, ]+)\)", case["class"]) for n in group.split(",")]
        for name, case in cases.items()
    }
    assert sum(1 for numbers in named.values() if numbers) >= 10
    wrong = {name: numbers for name, numbers in named.items() if not set(numbers) <= items}
    assert not wrong, f"classes naming items docs/PITFALLS.md does not have: {wrong}"


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    files = _repository_files()
    assert len(files) > 100 and ROOT / "README.md" in files
    outside = [str(p.relative_to(ROOT)) for p in files if refers_outside(p.read_bytes())]
    assert not outside, f"these refer outside the repository ({' or '.join(OUTSIDE)}): {outside}"


def test_the_checks_report_what_they_exist_for(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "real.md").write_text("here\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_here() -> None:\n    pass\n")
    (tmp_path / "server" / "kernelwright" / "harness").mkdir(parents=True)
    (tmp_path / "server" / "kernelwright" / "harness" / "timing.py").write_text("")
    text = (
        "See [the real one](docs/real.md), `tests/test_x.py::test_here`, harness/timing.py:12 and\n"
        "`docs/gone.md:40`, then `tests/test_x.py::test_gone[param]` and (harness/nowhere.py).\n"
    )
    assert missing_paths(text, tmp_path) == [
        "docs/gone.md",
        "tests/test_x.py::test_gone",
        "harness/nowhere.py",
    ]

    assert pitfall_items("### 1. One\n### 2. Two\n") == [1, 2]
    cited = citations("(docs/PITFALLS.md 3, 9-11) and (PITFALLS 40); docs/PITFALLS.md says so.")
    assert cited == [
        ("docs/PITFALLS.md 3, 9-11", [3, 9, 10, 11]),
        ("PITFALLS 40", [40]),
        ("docs/PITFALLS.md", []),
    ]

    assert refers_outside(("see " + OUTSIDE[0] + "/DESIGN.md").encode())
    assert not refers_outside(b"see docs/DESIGN.md and the shared flush buffer")
