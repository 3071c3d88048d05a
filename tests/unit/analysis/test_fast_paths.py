"""The text fast paths of analysis agree with the node-by-node readings they short-cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernelwright.analysis.directives import CommentLine, Token, _split, split_bracketed
from kernelwright.analysis.imports import Aliases, dotted_name, dotted_name_walk
from kernelwright.analysis.parsing import PYTHON, parser_for
from kernelwright.analysis.positions import ByteColumns, node_range, node_span, to_range
from kernelwright.analysis.python_functions import _params, params_walk
from kernelwright.core.site import Language, Position, Range
from kernelwright.core.text import position_at, utf16_len
from tree_sitter import Node, Query, QueryCursor

ALIASES = Aliases((("tl", "triton.language"), ("T", "triton.language")))


def _nodes(source: str, pattern: str) -> list[Node]:
    tree = parser_for(Language.PYTHON).parse(source.encode())
    return [
        n for nodes in QueryCursor(Query(PYTHON, pattern)).captures(tree.root_node).values() for n in nodes
    ]


CALLEES = [
    "f(x)",
    "tl.load(p)",
    "torch.cuda.synchronize()",
    "x.view(-1).item()",
    "None.x()",
    "True.real()",
    "self.proj(x)",
    "tl . load(p)",
    "tl.\\\n    load(p)",
    "a.b.c.d.e(1)",
    "print.x()",
    "match.group(0)",
    "type.mro()",
    "x[0].cpu()",
    "(a).b()",
    "é.x()",
    "x.é()",
    "_._()",
    "a1.b2()",
]


@pytest.mark.parametrize("source", CALLEES)
def test_dotted_name_fast_path_agrees_with_the_walk(source: str) -> None:
    callees = _nodes(source, "(call function: (_) @callee)")
    assert callees, source
    for node in callees:
        assert dotted_name(node) == dotted_name_walk(node), source


SIGNATURES = [
    "def f(): pass",
    "def f(x): pass",
    "def f(x,): pass",
    "def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr): pass",
    "def k(x_ptr,\n      n ,\n      BLOCK : T.constexpr ,\n): pass",
    "def k(BLOCK: tl.constexpr = 128): pass",
    "def k(x, *args, **kwargs): pass",
    "def k(x, /, y, *, z): pass",
    "def k(x,  # the input\n      y): pass",
    "def k(x: List[int], y: tl . constexpr): pass",
    "def k(self, x: torch.Tensor) -> None: pass",
    "def k(match, type, print): pass",
    "def k(é, x): pass",
    "def k(x: constexpr): pass",
    "def k(x y): pass",
    "def k(None): pass",
    "def k(x: a.): pass",
]


@pytest.mark.parametrize("source", SIGNATURES)
def test_params_fast_path_agrees_with_the_walk(source: str) -> None:
    (func,) = _nodes(source, "(function_definition) @f")
    params = func.child_by_field_name("parameters")
    assert params is not None
    assert _params(func, ALIASES) == params_walk(params, ALIASES), source


LINE = st.text(st.sampled_from("ab é𝔵\t#(x)"), max_size=12)


@given(st.lists(LINE, min_size=1, max_size=6))
def test_ranges_count_utf16_units_on_every_row(lines: list[str]) -> None:
    """ASCII rows skip the UTF-16 tables; every node still gets the editor's coordinates."""
    text = "\n".join(f"x = {line!r}" for line in lines)
    data = text.encode()
    cols = ByteColumns(data)
    for node in _nodes(text, "(string) @s"):
        rng = node_range(cols, node)
        start = len(data[: node.start_byte].decode())
        end = len(data[: node.end_byte].decode())
        assert rng.start == position_at(text, start)
        assert rng.end == position_at(text, end)
        assert rng.start == Position(node.start_point.row, rng.start.character)
        # Definitions keep spans until a site needs a Range: the same place, counted from a base row.
        base = node.start_point.row
        assert to_range(node_span(cols, node, base), base) == rng


WORDS = st.text(st.sampled_from("ab=_1 \t\u00a0\u2003é#:/\x1c"), max_size=30)


@given(WORDS, st.integers(0, 5))
def test_directive_words_without_brackets_split_like_the_loop(text: str, begin: int) -> None:
    assert _split(text, begin) == split_bracketed(text, begin)


@given(
    st.text(st.sampled_from("ab=_1 é𝔵#"), max_size=30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 9),
    st.integers(0, 40),
)
def test_directive_token_ranges_are_utf16(text: str, a: int, b: int, row: int, column: int) -> None:
    """A token's range, worked out on first use, counts UTF-16 units from where its comment starts."""
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    token = Token(CommentLine(text, Position(row, column)), start, end)
    col = column + utf16_len(text[:start])
    assert token.text == text[start:end]
    assert token.range == Range(Position(row, col), Position(row, col + utf16_len(text[start:end])))
    assert token == Token(CommentLine(text, Position(row, column)), start, end)
