from __future__ import annotations

import pytest
from kernelwright.core.errors import ExpressionError
from kernelwright.core.expr import eval_int_expr, names_in, parse_int_expr


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("(rows+127)/128", {"rows": 8192}, 64),
        ("(rows+127)/128", {"rows": 8193}, 65),
        ("rows*cols", {"rows": 3, "cols": 5}, 15),
        ("-7/2", {}, -3),  # C truncates toward zero; Python's // would give -4
        ("-7%2", {}, -1),
        ("cdiv(n, 256)", {"n": 1000}, 4),
        ("max(n, 1) << 2", {"n": 0}, 4),
        ("1.5*n", {"n": 2}, 3.0),
    ],
)
def test_evaluates_like_c(text: str, env: dict[str, int], expected: float) -> None:
    assert eval_int_expr(text, env) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("rows+", "does not parse"),
        ("__import__('os')", "only min(), max() and cdiv()"),
        ("x.y", "Attribute is not allowed"),
        ("'a'", "only numbers"),
        ("n/0", "division by zero"),
        ("m+1", "`m` has no value"),
    ],
)
def test_rejects_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        eval_int_expr(text, {"n": 4})


def test_names_in_excludes_functions() -> None:
    assert names_in("cdiv(rows*cols, BLOCK) + max(a, 2)") == {"rows", "cols", "BLOCK", "a"}
    parse_int_expr("(a+b)*c")
