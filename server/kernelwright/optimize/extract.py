"""Code out of a model's reply: fenced blocks, several files, prose around them, or nothing usable.

A reply is untrusted text. This module only reads it (Python's `ast.parse`, never exec) and picks the
block that defines the symbol the candidate must define; helper blocks that block needs are prepended.
A reply with no usable code gives `NoCode` with the reason, which the loop reports as the verdict
"no code in reply" and feeds back to the next round.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

from kernelwright.core.site import Language

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_PYTHON_TAGS = {"python", "py", "python3", "py3", "", "pycon"}
_CUDA_TAGS = {"cuda", "cu", "cpp", "c++", "cxx", "c", "cuh", "hpp", ""}


@dataclass(frozen=True)
class CodeBlock:
    language: str  # the fence's info word, lower-cased ("" when unlabeled)
    filename: str | None  # from `python title=x.py`, `python x.py` or `# file: x.py` first line
    text: str
    complete: bool  # False when the reply ended before the closing fence (a truncated reply)


@dataclass(frozen=True)
class Extracted:
    source: str
    blocks_used: int
    note: str = ""


@dataclass(frozen=True)
class NoCode:
    reason: str


def find_blocks(reply: str) -> list[CodeBlock]:
    """Every fenced block in order. An unclosed last fence runs to the end of the reply."""
    blocks: list[CodeBlock] = []
    lines = reply.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        info = match.group("info").strip()
        language, filename = _parse_info(info)
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and stripped.strip(fence[0]) == "":
                closed = True
                break
            body.append(lines[j])
            j += 1
        text = _dedent(body, match.group("indent"))
        if filename is None:
            filename = _filename_comment(text)
        blocks.append(CodeBlock(language, filename, text, closed))
        i = j + 1
    return blocks


def _parse_info(info: str) -> tuple[str, str | None]:
    words = info.split()
    if not words:
        return "", None
    language = words[0].lower()
    filename: str | None = None
    for word in words[1:]:
        key, _, value = word.partition("=")
        if value and key in ("title", "file", "filename", "name"):
            filename = value.strip("\"'")
        elif "." in word and not value:
            filename = word
    if "." in language and filename is None:  # ```kernel.py
        filename = language
        language = language.rsplit(".", 1)[1]
    return language, filename


def _filename_comment(text: str) -> str | None:
    first = text.lstrip().split("\n", 1)[0].strip()
    match = re.match(r"^(?:#|//)\s*(?:file(?:name)?:)\s*(\S+)$", first, re.IGNORECASE)
    return match.group(1) if match else None


def _dedent(body: list[str], indent: str) -> str:
    if indent:
        body = [line[len(indent) :] if line.startswith(indent) else line for line in body]
    return "\n".join(body).strip("\n") + "\n"


def extract_candidate(reply: str, symbol: str, language: Language) -> Extracted | NoCode:
    """The candidate module text defining `symbol`, or why there is none."""
    if not reply.strip():
        return NoCode("the reply was empty")
    blocks = find_blocks(reply)
    if language is Language.CUDA:
        return _extract_cuda(reply, blocks, symbol)
    return _extract_python(reply, blocks, symbol)


def defined_names(tree: ast.Module, *, imports: bool = True) -> set[str]:
    """The names a module defines at top level: classes, functions, assigned names and (with `imports`)
    the names its imports bind."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif imports and isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _python_uses(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _extract_python(reply: str, blocks: list[CodeBlock], symbol: str) -> Extracted | NoCode:
    python = [b for b in blocks if b.language in _PYTHON_TAGS or (b.filename or "").endswith(".py")]
    if not blocks:
        # Some local models answer with bare code: accept the whole reply only if it parses as Python
        # that defines the symbol (prose would not parse).
        tree = _parse(reply)
        if tree is not None and symbol in defined_names(tree):
            return Extracted(reply.strip("\n") + "\n", 0, "the reply was bare code without a fence")
        return NoCode(f"no code in reply: it has no fenced code block defining `{symbol}`")
    if not python:
        tags = ", ".join(sorted({b.language or "unlabeled" for b in blocks}))
        return NoCode(f"no code in reply: its code blocks ({tags}) are not Python")
    parsed = [(b, _parse(b.text)) for b in python]
    defining = [(b, t) for b, t in parsed if t is not None and symbol in defined_names(t)]
    if not defining:
        # A block that defines the symbol but does not parse is still the candidate: the worker's load
        # error (with its line) is better feedback for the next round than "no code".
        pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+{re.escape(symbol)}\b", re.MULTILINE)
        textual = [b for b in python if pattern.search(b.text)]
        if textual:
            return Extracted(textual[-1].text, 1, "the block defining the symbol does not parse")
        return NoCode(f"no code in reply: no Python block defines `{symbol}`")
    # The last defining block: models that revise themselves put the final version last.
    block, tree = defining[-1]
    missing = _python_uses(tree) - defined_names(tree) - set(dir(builtins))
    helpers: list[str] = []
    for other, other_tree in parsed:
        if other is block or other_tree is None or symbol in defined_names(other_tree):
            continue
        if missing & defined_names(other_tree):
            helpers.append(other.text)
            missing -= defined_names(other_tree)
    source = "\n\n".join([*helpers, block.text])
    note = "" if block.complete else "the reply ended inside the code block (truncated?)"
    return Extracted(source, 1 + len(helpers), note)


def _extract_cuda(reply: str, blocks: list[CodeBlock], symbol: str) -> Extracted | NoCode:
    kernel = re.compile(rf"__global__[^;{{]*?\b{re.escape(symbol)}\s*\(", re.DOTALL)
    candidates = [b for b in blocks if b.language in _CUDA_TAGS and kernel.search(b.text)]
    if not blocks and kernel.search(reply):
        return Extracted(reply.strip("\n") + "\n", 0, "the reply was bare code without a fence")
    if not candidates:
        return NoCode(f"no code in reply: no CUDA block defines `__global__ ... {symbol}(`")
    block = candidates[-1]
    note = "" if block.complete else "the reply ended inside the code block (truncated?)"
    return Extracted(block.text, 1, note)
