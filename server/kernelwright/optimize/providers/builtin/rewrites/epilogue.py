"""A matmul with a bias -> `F.linear` (the bias in the GEMM's epilogue); ReLU (or tanh-GELU on a GPU)
of a linear with bias -> one `torch._addmm_activation` (cuBLASLt runs bias and activation in its
epilogue)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from kernelwright.optimize.providers.builtin.pysource import (
    dotted,
)
from kernelwright.optimize.providers.builtin.rewrites.attention import matmul_operands
from kernelwright.optimize.providers.builtin.rewrites.flow import (
    At,
    call_name,
    keyword,
)
from kernelwright.optimize.providers.builtin.rewrites.scope import F, Hit, Scope

RELU_CALLS = {"torch.relu", "F.relu", "torch.nn.functional.relu"}

GELU_CALLS = {"F.gelu", "torch.nn.functional.gelu"}

ADDMM_ACT = '''def _kw_addmm_act(x, weight, bias, use_gelu=False):
    """x @ weight.T + bias, then ReLU (tanh-GELU with use_gelu), as one GEMM with a fused epilogue."""
    out = torch._addmm_activation(bias, x.reshape(-1, x.shape[-1]), weight.t(), use_gelu=use_gelu)
    return out.view(*x.shape[:-1], weight.shape[0])'''


@dataclass(frozen=True)
class _Linear:
    x: str
    weight: str  # as F.linear takes it: (out, in)
    bias: str | None


def _linear(scope: Scope, at: At, until: int) -> _Linear | None:
    """A matmul of an input by a weight, with or without a bias, in any of its spellings."""
    at = scope.flow.resolve(at)
    node = at.node

    def take(n: ast.expr) -> str | None:
        return scope.take(At(n, at.stmt), until)

    layer = scope.layer(node)
    if layer is not None and isinstance(node, ast.Call) and len(node.args) == 1:
        name, ctor = layer
        if dotted(ctor.func).rsplit(".", 1)[-1] != "Linear":
            return None
        bias_flag = keyword(ctor, "bias", 2)
        has_bias = not (isinstance(bias_flag, ast.Constant) and bias_flag.value is False)
        x = take(node.args[0])
        return None if x is None else _Linear(x, f"{name}.weight", f"{name}.bias" if has_bias else None)
    if isinstance(node, ast.Call) and call_name(node) in ("F.linear", f"{F}.linear") and len(node.args) >= 2:
        parts = [take(a) for a in node.args[:3]]
        if None in parts:
            return None
        return _Linear(parts[0] or "", parts[1] or "", parts[2] if len(parts) == 3 else None)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for mm_side, bias_side in ((node.left, node.right), (node.right, node.left)):
            inner = _linear(scope, At(mm_side, at.stmt), until)
            if inner is not None and inner.bias is None and isinstance(bias_side, ast.Name | ast.Attribute):
                bias = take(bias_side)
                return None if bias is None else _Linear(inner.x, inner.weight, bias)
        return None
    pair = matmul_operands(node)
    if pair is None or (isinstance(node, ast.Call) and call_name(node) == "torch.bmm"):
        return None
    x = take(pair[0])
    right = pair[1]
    if isinstance(right, ast.Attribute) and right.attr == "T":
        weight = take(right.value)
    elif isinstance(right, ast.Call) and isinstance(right.func, ast.Attribute) and right.func.attr == "t":
        weight = take(right.func.value)
    elif isinstance(right, ast.Name | ast.Attribute):
        inner_w = take(right)
        weight = None if inner_w is None else f"{inner_w}.t()"
    else:
        return None
    return None if x is None or weight is None else _Linear(x, weight, None)


def _activation(scope: Scope, node: ast.expr, on_gpu: bool) -> tuple[ast.expr, bool] | None:
    """(its input, whether it is GELU) for ReLU or tanh-GELU applied to one tensor."""
    if not isinstance(node, ast.Call):
        return None
    name = call_name(node)
    layer = scope.layer(node)
    if layer is not None and len(node.args) == 1:
        kind = dotted(layer[1].func).rsplit(".", 1)[-1]
        approximate = keyword(layer[1], "approximate")
        if kind == "ReLU":
            return node.args[0], False
        if (
            kind == "GELU"
            and on_gpu
            and isinstance(approximate, ast.Constant)
            and approximate.value == "tanh"
        ):
            return node.args[0], True
        return None
    if name in RELU_CALLS and len(node.args) == 1:
        return node.args[0], False
    if (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "relu"
        and not node.args
        and not name.startswith("torch")
    ):
        return node.func.value, False
    if name in GELU_CALLS and len(node.args) == 1 and on_gpu:
        approximate = keyword(node, "approximate")
        if isinstance(approximate, ast.Constant) and approximate.value == "tanh":
            return node.args[0], True
    return None


def linear_bias(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    found = _linear(scope, at, at.stmt)
    if found is None or found.bias is None:
        return None
    return Hit(node, f"{F}.linear({found.x}, {found.weight}, {found.bias})", what="matmul + bias")


def addmm_act(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
    act = _activation(scope, at.node, on_gpu)
    if act is None:
        return None
    found = _linear(scope, At(act[0], at.stmt), at.stmt)
    if found is None or found.bias is None:
        return None
    gelu = ", use_gelu=True" if act[1] else ""
    text = f"_kw_addmm_act({found.x}, {found.weight}, {found.bias}{gelu})"
    return Hit(at.node, text, helpers=(ADDMM_ACT,), what="matmul + bias + " + ("GELU" if act[1] else "ReLU"))
