"""Chains written out that torch has one op for: softmax from exp and sum, log of softmax,
cross-entropy from log_softmax and gather, tanh-GELU from its formula."""

from __future__ import annotations

import ast

from kernelwright.optimize.providers.builtin.rewrites.attention import softmax_arg
from kernelwright.optimize.providers.builtin.rewrites.flow import (
    At,
    call_name,
    int_value,
    keyword,
    same,
)
from kernelwright.optimize.providers.builtin.rewrites.scope import F, Hit, Scope


def _max_of(scope: Scope, at: At) -> tuple[At, int] | None:
    """(x, dim) for `x.max(dim=d, keepdim=True).values`, `x.amax(dim=d, keepdim=True)`, `torch.amax(...)`."""
    node = scope.flow.resolve(at).node
    stmt = scope.flow.resolve(at).stmt
    if (isinstance(node, ast.Attribute) and node.attr == "values") or (
        isinstance(node, ast.Subscript) and int_value(node.slice) == 0
    ):
        node = node.value
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    keep = keyword(node, "keepdim", 1)
    if not (isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if node.func.attr in ("max", "amax"):
        dim = int_value(keyword(node, "dim", 0))
        return None if dim is None else (At(node.func.value, stmt), dim)
    return None


def _softmax_written_out(scope: Scope, at: At) -> tuple[At, int] | None:
    """(x, dim) for `e / e.sum(dim, keepdim=True)` with e = exp(x - max(x, dim)) (or exp(x))."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return None
    total = scope.flow.resolve(At(node.right, at.stmt)).node
    if not (
        isinstance(total, ast.Call) and isinstance(total.func, ast.Attribute) and total.func.attr == "sum"
    ):
        return None
    keep = keyword(total, "keepdim", 1)
    dim = int_value(keyword(total, "dim", 0))
    if not (isinstance(keep, ast.Constant) and keep.value is True) or dim is None:
        return None
    num = scope.flow.resolve(At(node.left, at.stmt))
    if not same(scope.flow.resolve(At(total.func.value, at.stmt)).node, num.node):
        return None
    if not (
        isinstance(num.node, ast.Call) and call_name(num.node) in ("torch.exp",) and len(num.node.args) == 1
    ):
        return None
    arg = scope.flow.resolve(At(num.node.args[0], num.stmt))
    if isinstance(arg.node, ast.BinOp) and isinstance(arg.node.op, ast.Sub):
        found = _max_of(scope, At(arg.node.right, arg.stmt))
        left = scope.flow.resolve(At(arg.node.left, arg.stmt))
        if found is not None and found[1] == dim and same(scope.flow.resolve(found[0]).node, left.node):
            return At(arg.node.left, arg.stmt), dim
        return None
    return At(num.node.args[0], num.stmt), dim


def _cubed(scope: Scope, node: ast.expr, stmt: int) -> ast.expr | None:
    node = scope.flow.resolve(At(node, stmt)).node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and int_value(node.right) == 3:
        return node.left
    if isinstance(node, ast.Call) and call_name(node) == "torch.pow" and len(node.args) == 2:
        exp = node.args[1]
        if isinstance(exp, ast.Constant) and exp.value in (3, 3.0):
            return node.args[0]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left = node.left
        if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) and same(left.left, left.right):
            return left.left if same(left.left, node.right) else None
    return None


def _tanh_gelu(scope: Scope, at: At) -> At | None:
    """x for `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, the operands in either order."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return None
    for half, bracket in ((node.left, node.right), (node.right, node.left)):
        h = scope.flow.resolve(At(half, at.stmt)).node
        if not (isinstance(h, ast.BinOp) and isinstance(h.op, ast.Mult)):
            continue
        x = h.right if _is_const(h.left, 0.5) else h.left if _is_const(h.right, 0.5) else None
        b = scope.flow.resolve(At(bracket, at.stmt))
        if x is None or not (isinstance(b.node, ast.BinOp) and isinstance(b.node.op, ast.Add)):
            continue
        tanh = (
            b.node.right
            if _is_const(b.node.left, 1.0)
            else b.node.left
            if _is_const(b.node.right, 1.0)
            else None
        )
        if not (isinstance(tanh, ast.Call) and call_name(tanh) == "torch.tanh" and len(tanh.args) == 1):
            continue
        inner = scope.flow.resolve(At(tanh.args[0], b.stmt))
        if "0.044715" not in ast.unparse(inner.node) or "sqrt(2" not in ast.unparse(inner.node).replace(
            " ", ""
        ):
            continue
        cubes = [
            c for n in ast.walk(inner.node) if isinstance(n, ast.expr) and (c := _cubed(scope, n, inner.stmt))
        ]
        x_value = scope.flow.resolve(At(x, at.stmt)).node
        if cubes and all(same(scope.flow.resolve(At(c, inner.stmt)).node, x_value) for c in cubes):
            return At(x, at.stmt)
    return None


def _is_const(node: ast.expr, value: float) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, int | float) and float(node.value) == value
    )


def torch_ops(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
    until = at.stmt
    found = _softmax_written_out(scope, at)
    if found is not None:
        x = scope.take(found[0], until)
        return Hit(at.node, f"torch.softmax({x}, dim={found[1]})", what="softmax") if x else None
    gelu = _tanh_gelu(scope, at)
    if gelu is not None:
        x = scope.take(gelu, until)
        return Hit(at.node, f'{F}.gelu({x}, approximate="tanh")', what="tanh-GELU") if x else None
    log_of = log_of_softmax(scope, at)
    if log_of is not None:
        x = scope.take(log_of, until)
        return Hit(at.node, f"{F}.log_softmax({x}, dim=-1)", what="log-softmax") if x else None
    picked = cross_entropy_chain(scope, at)
    if picked is not None:
        x, t = scope.take(picked[0], until), scope.take(picked[1], until)
        return Hit(at.node, f"{F}.cross_entropy({x}, {t})", what="cross-entropy") if x and t else None
    return None


def log_of_softmax(scope: Scope, at: At) -> At | None:
    """x for `torch.log(softmax(x, dim=-1))`, through names."""
    node = at.node
    if not (isinstance(node, ast.Call) and call_name(node) == "torch.log" and len(node.args) == 1):
        return None
    inner = scope.flow.resolve(At(node.args[0], at.stmt))
    soft = softmax_arg(inner.node)
    return None if soft is None else At(soft, inner.stmt)


def cross_entropy_chain(scope: Scope, at: At) -> tuple[At, At] | None:
    """(logits, targets) for `-(log_softmax(x, 1).gather(1, t.unsqueeze(1)).squeeze(1)).mean()`."""
    node = at.node
    if not (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)):
        return None
    mean = node.operand
    if not (
        isinstance(mean, ast.Call)
        and isinstance(mean.func, ast.Attribute)
        and mean.func.attr == "mean"
        and not mean.args
        and not mean.keywords
    ):
        return None
    p = scope.flow.resolve(At(mean.func.value, at.stmt))
    sq = p.node
    if not (isinstance(sq, ast.Call) and isinstance(sq.func, ast.Attribute) and sq.func.attr == "squeeze"):
        return None
    g = scope.flow.resolve(At(sq.func.value, p.stmt))
    gather = g.node
    if not (
        isinstance(gather, ast.Call)
        and isinstance(gather.func, ast.Attribute)
        and gather.func.attr == "gather"
    ):
        return None
    if len(gather.args) != 2 or int_value(gather.args[0]) not in (1, -1):
        return None
    index = gather.args[1]
    if not (
        isinstance(index, ast.Call)
        and isinstance(index.func, ast.Attribute)
        and index.func.attr == "unsqueeze"
    ):
        return None
    logp_at = scope.flow.resolve(At(gather.func.value, g.stmt))
    logp = logp_at.node
    if not (
        isinstance(logp, ast.Call)
        and call_name(logp) in ("F.log_softmax", f"{F}.log_softmax", "torch.log_softmax")
    ):
        return None
    if not logp.args or int_value(keyword(logp, "dim", 1)) not in (1, -1):
        return None
    return At(logp.args[0], logp_at.stmt), At(index.func.value, g.stmt)
