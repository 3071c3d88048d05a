"""The winning candidate as an edit of the person's file: the new file text and the minimal TextEdits.

A builtin candidate carries the whole rewritten file (`Candidate.file_text`). A model's candidate is a
module of its own; it is merged into the file: the site's definition is replaced (for the module
convention `ModelNew` is renamed to the original class name), helpers the file already defines are
replaced where they stand, new helpers go just above the site, and missing imports after the file's
imports. The directive comment above the site is kept. Edits are computed against the original text
with UTF-16 positions, so the LSP can send them as they are.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass

from kernelwright.core.candidate import Candidate, TextEdit
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.measure import content_key
from kernelwright.core.site import Convention, Language, Range, Site
from kernelwright.core.text import position_at, range_offsets

_DEF_START = re.compile(r"^\s*(@|def\s|async\s+def\s|class\s)")


class EditError(KernelwrightError):
    """The candidate cannot be merged into the file (it does not parse, or the site moved)."""


@dataclass(frozen=True)
class EditPlan:
    new_text: str
    edits: tuple[TextEdit, ...]


def plan_edit(
    candidate: Candidate, site: Site, file_text: str, path: str, convention: Convention
) -> EditPlan:
    if candidate.file_text is not None:
        new_text = candidate.file_text
    elif site.language is Language.CUDA:
        new_text = merge_cuda(file_text, site, candidate.source)
    else:
        new_text = merge_python(file_text, site, candidate.source, convention)
    return EditPlan(new_text, minimal_edits(file_text, new_text, path))


def minimal_edits(old: str, new: str, path: str) -> tuple[TextEdit, ...]:
    """Line hunks that turn `old` into `new`, each against the original text (LSP semantics)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    digest = content_key(old)
    edits: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        rng = Range(position_at(old, starts[i1]), position_at(old, starts[i2]))
        edits.append(TextEdit(path, rng, "".join(b[j1:j2]), digest))
    return tuple(edits)


def apply_edits(text: str, edits: tuple[TextEdit, ...]) -> str:
    """Apply edits that all refer to `text` (as an editor does): last first, so offsets stay valid."""
    out = text
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = range_offsets(text, edit.range)
        out = out[:start] + edit.new_text + out[end:]
    return out


def spanning_edit(old: str, new: str, edits: tuple[TextEdit, ...]) -> tuple[Range, str, str]:
    """The hunks of `minimal_edits(old, new)` as one replacement: from the first hunk's start to the
    last one's end, with the text it replaces and the text that replaces it.

    The editor offers a result as one range (it re-anchors it if the file changed meanwhile: the text it
    replaces must still stand somewhere at the site); outside that span `new` equals `old`, so the
    replacement is `new`'s middle.
    """
    starts = [range_offsets(old, e.range) for e in edits]
    begin = min(s for s, _ in starts)
    end = max(e for _, e in starts)
    middle = new[begin : len(new) - (len(old) - end)]
    return Range(position_at(old, begin), position_at(old, end)), old[begin:end], middle


# Python --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    name: str | None
    first: int  # 0-based first line (decorators included)
    last: int  # 0-based last line, inclusive
    text: str
    is_import: bool = False


def _blocks(source: str) -> list[_Block]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise EditError(f"the candidate does not parse (line {exc.lineno}): {exc.msg}") from None
    lines = source.splitlines(keepends=True)
    out: list[_Block] = []
    for node in tree.body:
        first = node.lineno - 1
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.decorator_list:
            first = min(d.lineno for d in node.decorator_list) - 1
        last = (node.end_lineno or node.lineno) - 1
        text = "".join(lines[first : last + 1])
        name: str | None = None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = node.name
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstrings
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue  # demo code under `if __name__ == "__main__":`
        out.append(_Block(name, first, last, text, isinstance(node, ast.Import | ast.ImportFrom)))
    return out


def merge_python(file_text: str, site: Site, candidate_source: str, convention: Convention) -> str:
    source = candidate_source
    name = site.name
    if convention is Convention.MODULE:
        if re.search(rf"\b{re.escape(name)}\b", source):
            # The candidate refers to the original class (subclassing it, say): keep the original
            # under another name so both can live in one file.
            source = re.sub(rf"\b{re.escape(name)}\b", f"{name}Reference", source)
        source = re.sub(r"\bModelNew\b", name, source)
    cand = _blocks(source)
    if not any(b.name == name for b in cand):
        raise EditError(f"the candidate does not define `{name}` after renaming")
    file_blocks = _blocks(file_text)
    file_lines = file_text.splitlines(keepends=True)
    by_name = {b.name: b for b in file_blocks if b.name}
    file_imports = {b.text.strip() for b in file_blocks if b.is_import}
    # (first line, last line inclusive, replacement text): applied bottom-up.
    replacements: list[tuple[int, int, str]] = []
    helpers: list[str] = []
    imports: list[str] = []
    main = ""
    for block in cand:
        if block.is_import:
            if block.text.strip() not in file_imports:
                imports.append(block.text.rstrip("\n") + "\n")
        elif block.name == name:
            main = block.text
        elif block.name in by_name and block.name is not None:
            old = by_name[block.name]
            if old.text.strip() != block.text.strip() and not (
                old.first <= site.range.end.line and old.last >= site.range.start.line
            ):
                replacements.append((old.first, old.last, block.text))
        else:
            helpers.append(block.text.rstrip("\n") + "\n")

    start, end = site.range.start.line, site.range.end.line
    site_lines = file_lines[start : end + 1]
    keep = 0
    while keep < len(site_lines) and not _DEF_START.match(site_lines[keep]):
        keep += 1
    kept = "".join(site_lines[:keep])
    if convention is Convention.MODULE and f"{name}Reference" in source:
        original = "".join(site_lines[keep:])
        original = re.sub(rf"\b{re.escape(name)}\b", f"{name}Reference", original)
        main = original.rstrip("\n") + "\n\n\n" + main
    block_text = "".join(h + "\n\n" for h in helpers) + kept + main.rstrip("\n") + "\n"
    replacements.append((start, end, block_text))
    if imports:
        after = max((b.last for b in file_blocks if b.is_import), default=-1)
        replacements.append((after + 1, after, "".join(imports)))  # an insertion: last < first

    out = list(file_lines)
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    for first, last, text in sorted(replacements, key=lambda r: r[0], reverse=True):
        out[first : last + 1] = [text]
    return "".join(out)


# CUDA ----------------------------------------------------------------------------------------------


def merge_cuda(file_text: str, site: Site, candidate_source: str) -> str:
    """Replace the kernel (directive included) with the candidate's; carry over what precedes it there."""
    from kernelwright.analysis import analyze

    found = analyze(candidate_source, "candidate.cu").site(site.name)
    if found is None:
        raise EditError(f"the candidate defines no kernel `{site.name}`")
    c_lines = candidate_source.splitlines(keepends=True)
    c_start = _with_directive(c_lines, found.range.start.line)
    kernel = "".join(c_lines[c_start : found.range.end.line + 1])
    present = {line.strip() for line in file_text.splitlines() if line.strip()}
    preamble = [
        line
        for line in c_lines[:c_start]
        if line.strip() and line.strip() not in present and not line.lstrip().startswith("//")
    ]
    includes = [line for line in preamble if line.lstrip().startswith("#include")]
    others = [line for line in preamble if not line.lstrip().startswith("#include")]
    lines = file_text.splitlines(keepends=True)
    start, end = _with_directive(lines, site.range.start.line), site.range.end.line
    body = ("".join(others) + "\n" if others else "") + kernel.rstrip("\n") + "\n"
    lines[start : end + 1] = [body]
    if includes:
        last_include = max(
            (i for i, line in enumerate(lines) if line.lstrip().startswith("#include")), default=-1
        )
        lines[last_include + 1 : last_include + 1] = includes
    return "".join(lines)


def _with_directive(lines: list[str], start: int) -> int:
    """The kernel's first line, moved up over the `// kernelwright: bench` directive right above it."""
    if start > 0 and "kernelwright:" in lines[start - 1] and lines[start - 1].lstrip().startswith("//"):
        return start - 1
    return start
