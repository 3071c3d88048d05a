"""Analysis never raises: random bytes, bad UTF-8, truncations, huge lines, deep nesting, CRLF, NUL."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernelwright.analysis import DocumentAnalysis, analyze
from kernelwright.core.site import AnalysisResult, Position, Range
from kernelwright.core.text import TextChange

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
PATHS = ["a.py", "a.cu"]
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=400)


def ok(result: AnalysisResult) -> None:
    assert isinstance(result, AnalysisResult)
    assert not any(f.rule == "KW000" for f in result.findings), result.findings


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(PATHS))
def test_random_bytes(data: bytes, path: str) -> None:
    ok(analyze(data, path))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT, st.sampled_from(PATHS))
def test_random_text_with_surrogates_and_nul(text: str, path: str) -> None:
    ok(analyze(text, path))


def _sample_texts() -> list[tuple[str, str]]:
    out = []
    for p in sorted(SAMPLES.glob("*/*")):
        if p.suffix in (".py", ".cu"):
            out.append((p.name, p.read_text(encoding="utf-8")))
    return out or [("x.py", "import torch\n")]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_truncated_and_mangled_samples(data: st.DataObject) -> None:
    name, text = data.draw(st.sampled_from(_sample_texts()))
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    mangle = data.draw(st.sampled_from(["none", "crlf", "tabs", "nul", "latin1", "cr"]))
    piece = text[:cut]
    if mangle == "crlf":
        piece = piece.replace("\n", "\r\n")
    elif mangle == "tabs":
        piece = piece.replace("    ", "\t")
    elif mangle == "nul":
        piece = piece.replace("(", "\0(")
    elif mangle == "cr":
        piece = piece.replace("\n", "\r")
    raw: bytes | str = piece.encode("latin-1", "replace") + b"\xff\xfe" if mangle == "latin1" else piece
    ok(analyze(raw, name))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(PATHS),
    st.lists(
        st.tuples(
            st.integers(min_value=-2, max_value=60),
            st.integers(min_value=-2, max_value=200),
            st.integers(min_value=-2, max_value=60),
            st.integers(min_value=-2, max_value=200),
            ANY_TEXT,
        ),
        max_size=5,
    ),
)
def test_random_changes_never_raise(path: str, changes: list[tuple[int, int, int, int, str]]) -> None:
    text = dict(_sample_texts()).get("vector_add.py", "import torch\n")
    doc = DocumentAnalysis(path, text)
    edits = [TextChange(t, Range(Position(a, b), Position(c, d))) for a, b, c, d, t in changes]
    ok(doc.apply_changes(edits, version=1))


@pytest.mark.parametrize("path", PATHS)
def test_one_megabyte_single_line(path: str) -> None:
    line = "x = [" + "1.0, é, " * 130_000 + "]"
    assert len(line.encode()) > 1_000_000
    ok(analyze(line, path))
    doc = DocumentAnalysis(path, line)
    ok(doc.apply_changes([TextChange("𝔵", Range.of(0, 500_000, 0, 500_001))]))


@pytest.mark.parametrize("path", PATHS)
def test_deep_nesting(path: str) -> None:
    ok(analyze("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n", path))
    ok(analyze("void f() " + "{" * 5000 + "}" * 5000 + "\n", path))
    ok(
        analyze(
            "def f():\n" + "".join("    " * i + "if x:\n" for i in range(1, 300)) + "    " * 300 + "pass\n",
            path,
        )
    )
