"""RMSNorm, LayerNorm, softmax, log-softmax, cross-entropy, SiLU*mul and GELU*mul, as people write
them -> single-pass Triton kernels (fused_kernels.py, spliced into the file) or liger-kernel's where it
is installed and has the op (its cross-entropy writes the gradient into the logits: not a forward)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from kernelwright.optimize.providers.builtin import fused_kernels
from kernelwright.optimize.providers.builtin.fused_kernels import FusedOp
from kernelwright.optimize.providers.builtin.pysource import (
    dotted,
)
from kernelwright.optimize.providers.builtin.rewrites.attention import softmax_arg
from kernelwright.optimize.providers.builtin.rewrites.chains import cross_entropy_chain, log_of_softmax
from kernelwright.optimize.providers.builtin.rewrites.epilogue import GELU_CALLS
from kernelwright.optimize.providers.builtin.rewrites.flow import (
    At,
    call_name,
    int_value,
    keyword,
    same,
)
from kernelwright.optimize.providers.builtin.rewrites.scope import Hit, Scope

SILU_CALLS = {"F.silu", "torch.nn.functional.silu"}

LAYER_NORM_CALLS = {"F.layer_norm", "torch.nn.functional.layer_norm", "torch.layer_norm"}

CROSS_ENTROPY_CALLS = {"F.cross_entropy", "torch.nn.functional.cross_entropy"}

LIGER: dict[FusedOp, tuple[str, str]] = {
    FusedOp.RMS_NORM: ("liger_kernel.ops.rms_norm", "LigerRMSNormFunction"),
    FusedOp.LAYER_NORM: ("liger_kernel.ops.layer_norm", "LigerLayerNormFunction"),
    FusedOp.SOFTMAX: ("liger_kernel.ops.softmax", "LigerSoftmaxFunction"),
    FusedOp.SILU_MUL: ("liger_kernel.ops.swiglu", "LigerSiLUMulFunction"),
    FusedOp.GELU_MUL: ("liger_kernel.ops.geglu", "LigerGELUMulFunction"),
}


@dataclass(frozen=True)
class _Fusable:
    op: FusedOp
    args: tuple[str, ...]  # as the op's wrapper takes them
    what: str


def _mean_of_squares(scope: Scope, at: At) -> ast.expr | None:
    """x for `x.pow(2).mean(-1, keepdim=True)`, `(x * x).mean(dim=-1, keepdim=True)`,
    `x.square().mean(...)`, `torch.mean(x ** 2, dim=-1, keepdim=True)`."""
    node = scope.flow.resolve(at).node
    if not isinstance(node, ast.Call):
        return None
    keep = keyword(node, "keepdim")
    if not (isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if call_name(node) == "torch.mean" and node.args:
        inner, dim = node.args[0], keyword(node, "dim", 1)
    elif isinstance(node.func, ast.Attribute) and node.func.attr == "mean":
        inner, dim = node.func.value, keyword(node, "dim", 0)
    else:
        return None
    if int_value(dim) != -1:
        return None
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
        if inner.func.attr == "pow" and len(inner.args) == 1 and int_value(inner.args[0]) == 2:
            return inner.func.value
        if inner.func.attr == "square" and not inner.args:
            return inner.func.value
    if isinstance(inner, ast.BinOp):
        if isinstance(inner.op, ast.Pow) and int_value(inner.right) == 2:
            return inner.left
        if isinstance(inner.op, ast.Mult) and same(inner.left, inner.right):
            return inner.left
    return None


def _rms(scope: Scope, at: At) -> tuple[ast.expr, ast.expr] | None:
    """(x, eps) for `x * torch.rsqrt(ms + eps)` or `x / torch.sqrt(ms + eps)`, ms the mean of x squared."""
    node = at.node
    if not isinstance(node, ast.BinOp):
        return None
    pairs: list[tuple[ast.expr, ast.expr, str]] = []
    if isinstance(node.op, ast.Mult):
        pairs = [(node.left, node.right, "torch.rsqrt"), (node.right, node.left, "torch.rsqrt")]
    elif isinstance(node.op, ast.Div):
        pairs = [(node.left, node.right, "torch.sqrt")]
    for x, root, fn in pairs:
        r = scope.flow.resolve(At(root, at.stmt))
        if not (isinstance(r.node, ast.Call) and call_name(r.node) == fn and len(r.node.args) == 1):
            continue
        total = scope.flow.resolve(At(r.node.args[0], r.stmt)).node
        if not (isinstance(total, ast.BinOp) and isinstance(total.op, ast.Add)):
            continue
        for ms_side, eps in ((total.left, total.right), (total.right, total.left)):
            squared = _mean_of_squares(scope, At(ms_side, r.stmt))
            if squared is not None and same(
                scope.flow.resolve(At(squared, r.stmt)).node, scope.flow.resolve(At(x, at.stmt)).node
            ):
                return x, eps
    return None


def _mean_last(scope: Scope, at: At) -> At | None:
    """x for `x.mean(dim=-1, keepdim=True)` or `torch.mean(x, -1, keepdim=True)`."""
    node = scope.flow.resolve(at).node
    keep = keyword(node, "keepdim") if isinstance(node, ast.Call) else None
    if not (isinstance(node, ast.Call) and isinstance(keep, ast.Constant) and keep.value is True):
        return None
    if call_name(node) == "torch.mean" and node.args and int_value(keyword(node, "dim", 1)) == -1:
        return At(node.args[0], scope.flow.resolve(at).stmt)
    if (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "mean"
        and int_value(keyword(node, "dim", 0)) == -1
    ):
        return At(node.func.value, scope.flow.resolve(at).stmt)
    return None


def _centered(scope: Scope, at: At) -> At | None:
    """x for `x - x.mean(-1, keepdim=True)` (through names)."""
    node = at.node
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)):
        return None
    mean_of = _mean_last(scope, At(node.right, at.stmt))
    if mean_of is None:
        return None
    if same(scope.flow.resolve(mean_of).node, scope.flow.resolve(At(node.left, at.stmt)).node):
        return At(node.left, at.stmt)
    return None


def _norm_plain(scope: Scope, at: At, until: int) -> _Fusable | None:
    """RMSNorm without a weight, or LayerNorm without weight and bias when x was centred first."""
    rms = _rms(scope, at)
    if rms is None:
        return None
    eps = scope.take(At(rms[1], at.stmt), until)
    x_at = At(rms[0], at.stmt)
    centered = _centered(scope, scope.flow.resolve(x_at))
    if centered is not None:
        x = scope.take(centered, until)
        return _Fusable(FusedOp.LAYER_NORM, (x, "None", "None", eps), "LayerNorm") if x and eps else None
    x = scope.take(x_at, until)
    return _Fusable(FusedOp.RMS_NORM, (x, "None", eps), "RMSNorm") if x and eps else None


def _norm(scope: Scope, at: At, until: int) -> _Fusable | None:
    """A norm written out: `rms * w`, `(x - mean) * rsqrt(var + eps) * w + b`, either operand order."""
    node = at.node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for normed, bias in ((node.left, node.right), (node.right, node.left)):
            inner = _norm_weighted(scope, scope.flow.resolve(At(normed, at.stmt)), until)
            if inner is None or inner.op is not FusedOp.LAYER_NORM or inner.args[2] != "None":
                continue
            b = scope.take(At(bias, at.stmt), until) if isinstance(bias, ast.Name | ast.Attribute) else None
            if b:
                x, w, _, eps = inner.args
                return _Fusable(FusedOp.LAYER_NORM, (x, w, b, eps), "LayerNorm")
    return _norm_weighted(scope, at, until)


def _norm_weighted(scope: Scope, at: At, until: int) -> _Fusable | None:
    node = at.node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for normed, weight in ((node.left, node.right), (node.right, node.left)):
            inner = _norm_plain(scope, scope.flow.resolve(At(normed, at.stmt)), until)
            if inner is None or not isinstance(weight, ast.Name | ast.Attribute):
                continue
            w = scope.take(At(weight, at.stmt), until)
            if w:
                args = list(inner.args)
                args[1] = w
                return _Fusable(inner.op, tuple(args), inner.what)
    return _norm_plain(scope, at, until)


def _fusable(scope: Scope, at: At) -> _Fusable | None:
    node = at.node
    until = at.stmt

    def take(n: ast.expr) -> str | None:
        return scope.take(At(n, at.stmt), until)

    norm = _norm(scope, at, until)
    if norm is not None:
        return norm
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for gated, other in ((node.left, node.right), (node.right, node.left)):
            g = scope.flow.resolve(At(gated, at.stmt))
            if not (isinstance(g.node, ast.Call) and len(g.node.args) == 1):
                continue
            a, b = scope.take(At(g.node.args[0], g.stmt), until), take(other)
            if not (a and b):
                continue
            name = call_name(g.node)
            if name in SILU_CALLS:
                return _Fusable(FusedOp.SILU_MUL, (a, b), "SiLU * mul (SwiGLU)")
            if name in GELU_CALLS:
                approx = keyword(g.node, "approximate")
                mode = approx.value if isinstance(approx, ast.Constant) else "none"
                if mode in ("none", "tanh"):
                    return _Fusable(FusedOp.GELU_MUL, (a, b, repr(mode)), "GELU * mul (GeGLU)")
    log_of = log_of_softmax(scope, at)
    if log_of is not None:
        x = scope.take(log_of, until)
        return _Fusable(FusedOp.LOG_SOFTMAX, (x,), "log-softmax") if x else None
    picked = cross_entropy_chain(scope, at)
    if picked is not None:
        x, t = scope.take(picked[0], until), scope.take(picked[1], until)
        return _Fusable(FusedOp.CROSS_ENTROPY, (x, t), "cross-entropy") if x and t else None
    if isinstance(node, ast.Call):
        soft = softmax_arg(node)
        if soft is not None:
            x = take(soft)
            return _Fusable(FusedOp.SOFTMAX, (x,), "softmax") if x else None
        log_soft = softmax_arg(node, "log_softmax")
        if log_soft is not None:
            x = take(log_soft)
            return _Fusable(FusedOp.LOG_SOFTMAX, (x,), "log-softmax") if x else None
        ce = _cross_entropy_call(node, take)
        if ce is not None:
            return ce
        layer = scope.layer(node)
        if layer is not None and len(node.args) == 1:
            name, ctor = layer
            if dotted(ctor.func).rsplit(".", 1)[-1] == "LayerNorm" and len(ctor.args) <= 1:
                x = take(node.args[0])
                if x:
                    return _Fusable(
                        FusedOp.LAYER_NORM, (x, f"{name}.weight", f"{name}.bias", f"{name}.eps"), "LayerNorm"
                    )
        if call_name(node) in LAYER_NORM_CALLS and len(node.args) >= 2:
            shape = node.args[1]
            if isinstance(shape, ast.Tuple | ast.List) and len(shape.elts) == 1:
                x = take(node.args[0])
                eps = keyword(node, "eps", 4)
                parts = [
                    take(p) if p is not None else "None"
                    for p in (keyword(node, "weight", 2), keyword(node, "bias", 3))
                ]
                eps_text = take(eps) if eps is not None else "1e-5"
                if x and None not in parts and eps_text:
                    return _Fusable(
                        FusedOp.LAYER_NORM, (x, parts[0] or "None", parts[1] or "None", eps_text), "LayerNorm"
                    )
    return None


def _cross_entropy_call(node: ast.Call, take: Callable[[ast.expr], str | None]) -> _Fusable | None:
    """`F.cross_entropy(x, t)` with the mean reduction and no class weights or label smoothing."""
    if call_name(node) not in CROSS_ENTROPY_CALLS or len(node.args) != 2:
        return None
    ignore: tuple[str, ...] = ()
    for kw in node.keywords:
        if kw.arg == "reduction" and isinstance(kw.value, ast.Constant) and kw.value.value == "mean":
            continue
        if kw.arg == "ignore_index" and int_value(kw.value) is not None:
            ignore = (str(int_value(kw.value)),)
            continue
        return None
    x, t = take(node.args[0]), take(node.args[1])
    return _Fusable(FusedOp.CROSS_ENTROPY, (x, t, *ignore), "cross-entropy") if x and t else None


def triton(config_index: int) -> Callable[[Scope, At, bool], Hit | None]:
    def match(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
        found = _fusable(scope, at)
        if found is None:
            return None
        options = fused_kernels.configs(found.op)
        config = options[min(config_index, len(options) - 1)]
        text = f"{fused_kernels.wrapper_name(found.op)}({', '.join(found.args)})"
        return Hit(
            at.node,
            text,
            helpers=(fused_kernels.source(found.op, config),),
            imports=fused_kernels.REQUIRED_IMPORTS,
            what=f"{found.what} (Triton, {config.slug()})",
        )

    return match


def liger_kernels(scope: Scope, at: At, on_gpu: bool) -> Hit | None:
    found = _fusable(scope, at)
    if found is None:
        return None
    if found.op not in LIGER:
        return None
    args = found.args
    if found.op is FusedOp.RMS_NORM and args[1] == "None":
        return None
    if found.op is FusedOp.GELU_MUL:
        if args[2] != repr("tanh"):
            return None  # liger's GeGLU is the tanh approximation
        args = args[:2]
    module, cls = LIGER[found.op]
    return Hit(
        at.node, f"{cls}.apply({', '.join(args)})", imports=(f"from {module} import {cls}",), what=found.what
    )
