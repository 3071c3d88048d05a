"""`kernelwright: bench key=value ...` directive comments: tokens with exact ranges, then specs.

A directive is read once into tokens that know their LSP range, so every complaint (an unknown key, a
name that is not defined, a value that does not parse) points at the exact token. Malformed directives
become KW001 findings, never exceptions.

Why one module: the directive tokenizer and the spec builder share the tokens' ranges, so that every
complaint points at its token; the grammar reads as one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.errors import ExpressionError
from kernelwright.core.expr import names_in
from kernelwright.core.site import (
    CudaArgument,
    CudaParam,
    CudaSpec,
    Finding,
    FunctionSpec,
    Position,
    Range,
)
from kernelwright.core.text import utf16_len

_HEAD = re.compile(r"^(#|//)\s*kernelwright\s*:")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

PYTHON_KEYS = ("inputs", "init", "atol", "rtol", "reference", "cpu_inputs", "shapes")
CUDA_EXTRA_KEYS = ("grid", "block", "smem", "atol", "rtol")
FACTORIES = {"randn": 1, "rand": 1, "zeros": 1, "empty": 1, "randint": 3}


def is_directive(comment: str) -> bool:
    return _HEAD.match(comment) is not None


@dataclass(frozen=True, slots=True)
class CommentLine:
    """One comment as written and where it starts."""

    text: str
    start: Position


class Token:
    """One word of a directive. Its LSP range is worked out on first use: only findings need it, and
    most directives have none (a file's directives are read on first open, a few microseconds each).
    Compares and hashes by (text, range), as the frozen dataclass it replaces did."""

    __slots__ = ("_end", "_line", "_range", "_start", "text")

    def __init__(self, line: CommentLine, start: int, end: int) -> None:
        self.text = line.text[start:end]
        self._line = line
        self._start = start
        self._end = end
        self._range: Range | None = None

    @property
    def range(self) -> Range:
        """The token's LSP range (UTF-16 columns)."""
        if self._range is None:
            line, start, end = self._line, self._start, self._end
            text = line.text
            if text.isascii():  # string offsets are UTF-16 offsets
                col, width = line.start.character + start, end - start
            else:
                col, width = line.start.character + utf16_len(text[:start]), utf16_len(self.text)
            row = line.start.line
            self._range = Range(Position(row, col), Position(row, col + width))
        return self._range

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and self.text == other.text and self.range == other.range

    def __hash__(self) -> int:
        return hash((self.text, self.range))

    def __repr__(self) -> str:
        return f"Token(text={self.text!r}, range={self.range!r})"


@dataclass(frozen=True, slots=True)
class Entry:
    key: Token
    value: Token


@dataclass(frozen=True, slots=True)
class Directive:
    range: Range  # the whole directive, continuation lines included
    verb: Token | None
    entries: tuple[Entry, ...]
    errors: tuple[Finding, ...]

    def get(self, key: str) -> Entry | None:
        for e in self.entries:
            if e.key.text == key:
                return e
        return None


def _token(line: CommentLine, start: int, end: int) -> Token:
    """The token line.text[start:end], with its LSP range."""
    return Token(line, start, end)


_WORD = re.compile(r"\S+")  # \s is str.isspace(), as in the loop below
_BRACKETS = re.compile(r"[()\[\]]")


def _split(text: str, begin: int) -> list[tuple[int, int]]:
    """Spans of whitespace-separated words from `begin`, keeping `f(a, b)` whole."""
    if _BRACKETS.search(text, begin) is None:
        return [m.span() for m in _WORD.finditer(text, begin)]  # no brackets: plain words
    return split_bracketed(text, begin)


def split_bracketed(text: str, begin: int) -> list[tuple[int, int]]:
    """`_split` character by character, tracking bracket depth."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = -1
    for i in range(begin, len(text)):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        if ch.isspace() and depth == 0:
            if start >= 0:
                spans.append((start, i))
                start = -1
        elif start < 0:
            start = i
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def parse_directive(lines: Sequence[CommentLine], site: str | None = None) -> Directive:
    """Tokenise a directive: the first line holds `kernelwright: bench`, later lines continue it."""
    first = lines[0]
    last = lines[-1]
    whole = Range(first.start, Position(last.start.line, last.start.character + utf16_len(last.text)))
    errors: list[Finding] = []
    entries: list[Entry] = []
    verb: Token | None = None
    for index, line in enumerate(lines):
        if index == 0:
            head = _HEAD.match(line.text)
            begin = head.end() if head else 0
        else:
            begin = 2 if line.text.startswith("//") else 1
        spans = _split(line.text, begin)
        if index == 0:
            if not spans:
                errors.append(
                    finding(
                        RuleId.MALFORMED_DIRECTIVE,
                        _token(line, 0, len(line.text)).range,
                        "directive has no verb: write `kernelwright: bench key=value ...`",
                        site,
                    )
                )
                break
            verb = _token(line, *spans[0])
            spans = spans[1:]
            if verb.text != "bench":
                errors.append(
                    finding(
                        RuleId.MALFORMED_DIRECTIVE,
                        verb.range,
                        f"unknown directive verb `{verb.text}`: the only verb is `bench`",
                        site,
                    )
                )
                break
        for s, e in spans:
            word = line.text[s:e]
            eq = word.find("=")
            if eq <= 0 or eq == len(word) - 1 or not _IDENT.match(word[:eq]):
                errors.append(
                    finding(
                        RuleId.MALFORMED_DIRECTIVE,
                        _token(line, s, e).range,
                        f"`{word}` is not `key=value` (no spaces around `=`)",
                        site,
                    )
                )
                continue
            key = _token(line, s, s + eq)
            if any(x.key.text == key.text for x in entries):
                errors.append(
                    finding(RuleId.MALFORMED_DIRECTIVE, key.range, f"`{key.text}` is given twice", site)
                )
                continue
            entries.append(Entry(key, _token(line, s + eq + 1, e)))
    return Directive(whole, verb, tuple(entries), tuple(errors))


def _bad(token: Token, message: str, site: str | None) -> Finding:
    return finding(RuleId.MALFORMED_DIRECTIVE, token.range, message, site)


def _float_value(entry: Entry, site: str | None, errors: list[Finding]) -> float | None:
    try:
        value = float(entry.value.text)
    except ValueError:
        errors.append(_bad(entry.value, f"`{entry.key.text}` wants a number, not `{entry.value.text}`", site))
        return None
    if not value >= 0 or value == float("inf"):
        errors.append(_bad(entry.value, f"`{entry.key.text}` must be a finite number >= 0", site))
        return None
    return value


def function_spec(
    directive: Directive, module_names: Collection[str], site: str
) -> tuple[FunctionSpec | None, list[Finding]]:
    """The FunctionSpec of a Python directive, or None with findings that say what is wrong."""
    errors = list(directive.errors)
    names: dict[str, str] = {}
    atol = rtol = None
    for entry in directive.entries:
        key = entry.key.text
        if key not in PYTHON_KEYS:
            errors.append(
                _bad(entry.key, f"unknown key `{key}`: valid keys are {', '.join(PYTHON_KEYS)}", site)
            )
        elif key in ("atol", "rtol"):
            value = _float_value(entry, site, errors)
            if key == "atol":
                atol = value
            else:
                rtol = value
        elif not _IDENT.match(entry.value.text):
            errors.append(_bad(entry.value, f"`{key}` wants the name of a module-level callable", site))
        elif entry.value.text not in module_names:
            errors.append(
                _bad(
                    entry.value,
                    f"`{entry.value.text}` is not defined at module level: define it, or fix the name",
                    site,
                )
            )
        else:
            names[key] = entry.value.text
    if directive.verb is not None and directive.verb.text == "bench" and directive.get("inputs") is None:
        errors.append(
            _bad(directive.verb, "missing required key `inputs=NAME` (a callable returning the args)", site)
        )
    if errors or "inputs" not in names:
        return None, errors
    spec = FunctionSpec(
        inputs=names["inputs"],
        init=names.get("init"),
        atol=atol,
        rtol=rtol,
        reference=names.get("reference"),
        cpu_inputs=names.get("cpu_inputs"),
        shapes=names.get("shapes"),
    )
    return spec, errors


@lru_cache(maxsize=4096)
def _names_or_error(text: str) -> frozenset[str] | str:
    """The names an integer expression uses, or why it is not one. Sizes repeat across directives."""
    try:
        return frozenset(names_in(text))  # names_in parses and checks the expression
    except ExpressionError as exc:
        return str(exc)


def clear_caches() -> None:
    _names_or_error.cache_clear()


def _expr_errors(token: Token, text: str, scalars: Collection[str], site: str, what: str) -> list[Finding]:
    """Problems with an integer expression over the kernel's scalar parameters."""
    used = _names_or_error(text)
    if isinstance(used, str):
        return [_bad(token, f"{what}: {used}", site)]
    unknown = sorted(used - set(scalars))
    if unknown:
        valid = ", ".join(scalars) if scalars else "none: the kernel has no scalar parameters"
        return [
            _bad(
                token, f"{what}: `{unknown[0]}` is not a scalar parameter of the kernel (have: {valid})", site
            )
        ]
    return []


def _split_args(text: str) -> list[str] | None:
    """`(a, b)` -> ['a', 'b'] at depth 0; None when the parentheses do not wrap the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return None
    inner = text[1:-1]
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return parts


def _launch_dims(entry: Entry, scalars: Collection[str], site: str, errors: list[Finding]) -> tuple[str, ...]:
    text = entry.value.text
    parts = _split_args(text)
    # `(rows+127)/128` is one expression that happens to start with a parenthesis: a tuple needs a comma.
    dims = parts if parts is not None and len(parts) > 1 else [text]
    if len(dims) > 3 or any(not d for d in dims):
        errors.append(_bad(entry.value, f"`{entry.key.text}` takes 1 to 3 expressions, e.g. `(a,b)`", site))
        return ()
    found: list[Finding] = []
    for d in dims:
        found += _expr_errors(entry.value, d, scalars, site, f"`{entry.key.text}`")
    errors += found
    return tuple(dims) if not found else ()


def cuda_spec(
    directive: Directive, kernel: str, params: Sequence[CudaParam]
) -> tuple[CudaSpec | None, list[Finding]]:
    """The CudaSpec of a CUDA directive against the kernel's parameters, or None with findings."""
    errors = list(directive.errors)
    by_name = {p.name: p for p in params}
    scalars = [p.name for p in params if not p.is_pointer]
    valid = [p.name for p in params] + list(CUDA_EXTRA_KEYS)
    arguments: list[CudaArgument] = []
    grid: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    smem: str | None = None
    atol = rtol = None
    for entry in directive.entries:
        key = entry.key.text
        value = entry.value.text
        if key in ("atol", "rtol"):
            number = _float_value(entry, kernel, errors)
            if key == "atol":
                atol = number
            else:
                rtol = number
        elif key in ("grid", "block"):
            dims = _launch_dims(entry, scalars, kernel, errors)
            if key == "grid":
                grid = dims
            else:
                block = dims
        elif key == "smem":
            found = _expr_errors(entry.value, value, scalars, kernel, "`smem`")
            errors += found
            smem = value if not found else None
        elif key not in by_name:
            errors.append(_bad(entry.key, f"unknown key `{key}`: valid keys are {', '.join(valid)}", kernel))
        elif by_name[key].is_pointer:
            arg = _factory(entry, scalars, kernel, errors)
            if arg is not None:
                arguments.append(arg)
        else:
            found = _expr_errors(entry.value, value, [s for s in scalars if s != key], kernel, f"`{key}`")
            errors += found
            if not found:
                arguments.append(CudaArgument(param=key, expr=value))
    anchor = directive.verb.range if directive.verb is not None else directive.range
    given = {e.key.text for e in directive.entries}
    for p in params:
        if p.name not in given:
            what = "a factory such as randn(n) or empty(n)" if p.is_pointer else "an integer expression"
            errors.append(
                finding(
                    RuleId.MALFORMED_DIRECTIVE,
                    anchor,
                    f"missing `{p.name}=`: give parameter `{p.name}` {what}",
                    kernel,
                )
            )
    for key in ("grid", "block"):
        if key not in given:
            errors.append(
                finding(
                    RuleId.MALFORMED_DIRECTIVE,
                    anchor,
                    f"missing required key `{key}=` (the launch shape)",
                    kernel,
                )
            )
    if errors:
        return None, errors
    order = {p.name: i for i, p in enumerate(params)}
    arguments.sort(key=lambda a: order[a.param])
    spec = CudaSpec(
        kernel=kernel,
        params=tuple(params),
        arguments=tuple(arguments),
        grid=grid,
        block=block,
        smem=smem,
        atol=atol,
        rtol=rtol,
    )
    return spec, errors


def _factory(
    entry: Entry, scalars: Collection[str], kernel: str, errors: list[Finding]
) -> CudaArgument | None:
    text = entry.value.text
    m = re.match(r"^([A-Za-z_]\w*)(\(.*\))$", text)
    name = m.group(1) if m else ""
    if not m or name not in FACTORIES:
        errors.append(
            _bad(
                entry.value,
                f"pointer parameter `{entry.key.text}` needs a factory: "
                "randn(n), rand(n), randint(lo,hi,n), zeros(n) or empty(n)",
                kernel,
            )
        )
        return None
    args = _split_args(m.group(2)) or []
    if len(args) != FACTORIES[name] or any(not a for a in args):
        errors.append(
            _bad(entry.value, f"`{name}` takes {FACTORIES[name]} argument(s), got {len(args)}", kernel)
        )
        return None
    found: list[Finding] = []
    for a in args:
        found += _expr_errors(entry.value, a, scalars, kernel, f"`{entry.key.text}`")
    errors += found
    if found:
        return None
    return CudaArgument(param=entry.key.text, expr=text, factory=name, factory_args=tuple(args))
