"""Integer expressions in CUDA directives: `(rows+127)/128`, `rows*cols`, `max(n, 1)`.

Parsed with Python's `ast` and evaluated by walking a whitelist, never with eval. Division is C's
integer division (truncating toward zero) because these expressions describe C launch shapes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from kernelwright.core.errors import ExpressionError


def _cdiv(a: int | float, b: int | float) -> int | float:
    return -(-a // b)


_FUNCS: dict[str, Callable[..., int | float]] = {"min": min, "max": max, "cdiv": _cdiv}


def parse_int_expr(text: str) -> ast.expr:
    """Parse `text` as an integer expression; raise ExpressionError naming what is wrong."""
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"`{text}` does not parse: {exc.msg}") from None
    _check(tree.body, text)
    return tree.body


def names_in(text: str) -> set[str]:
    """The variable names an expression refers to (functions excluded)."""
    node = parse_int_expr(text)
    out: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in _FUNCS:
            out.add(sub.id)
    return out


def eval_int_expr(text: str, env: Mapping[str, int | float]) -> int | float:
    return _eval(parse_int_expr(text), env, text)


def _check(node: ast.expr, text: str) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if not isinstance(sub.func, ast.Name) or sub.func.id not in _FUNCS or sub.keywords:
                raise ExpressionError(f"`{text}`: only min(), max() and cdiv() may be called")
        elif isinstance(sub, ast.Constant):
            if not isinstance(sub.value, int | float) or isinstance(sub.value, bool):
                raise ExpressionError(f"`{text}`: only numbers are allowed, not {sub.value!r}")
        elif not isinstance(
            sub,
            ast.BinOp | ast.UnaryOp | ast.Name | ast.Load | ast.operator | ast.unaryop | ast.expr_context,
        ):
            raise ExpressionError(f"`{text}`: {type(sub).__name__} is not allowed in a size expression")


def _eval(node: ast.expr, env: Mapping[str, int | float], text: str) -> int | float:
    if isinstance(node, ast.Constant):
        value = node.value
        assert isinstance(value, int | float)
        return value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ExpressionError(f"`{text}`: `{node.id}` has no value")
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env, text)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        raise ExpressionError(f"`{text}`: unsupported unary operator")
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(a, env, text) for a in node.args]
        try:
            result: int | float = _FUNCS[node.func.id](*args)
        except TypeError as exc:
            raise ExpressionError(f"`{text}`: {exc}") from None
        return result
    if isinstance(node, ast.BinOp):
        a = _eval(node.left, env, text)
        b = _eval(node.right, env, text)
        op = node.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div | ast.FloorDiv | ast.Mod):
            if b == 0:
                raise ExpressionError(f"`{text}`: division by zero")
            if isinstance(a, int) and isinstance(b, int):
                q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
                return q if not isinstance(op, ast.Mod) else a - q * b
            return a / b if not isinstance(op, ast.Mod) else a % b
        if isinstance(op, ast.LShift) and isinstance(a, int) and isinstance(b, int):
            return a << b
        if isinstance(op, ast.RShift) and isinstance(a, int) and isinstance(b, int):
            return a >> b
        if isinstance(op, ast.Pow):
            return a**b
        raise ExpressionError(f"`{text}`: unsupported operator {type(op).__name__}")
    raise ExpressionError(f"`{text}`: unsupported expression")
