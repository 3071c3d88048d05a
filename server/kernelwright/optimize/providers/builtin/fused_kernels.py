"""Single-pass fused Triton kernels, as source text for the builtin search to splice into a person's file.

The builtin search rewrites a hand-written expression (an RMSNorm, a softmax, a gated activation) into a
call to a fused kernel. A candidate must be self-contained source, so this module defines no kernels: it
produces them as text, one kernel and its wrapper per op, with the launch config written in. The text
needs only `REQUIRED_IMPORTS` at the top of the file; every name it defines starts with `_kw_`.

Each kernel works on rows of the last dim: the wrapper flattens the leading dims, launches one program
per `rows_per_program` rows with a block of `triton.next_power_of_2(row)` lanes, accumulates in float32
and returns a tensor of the input's shape and dtype. Rows longer than `MAX_ROW` raise ValueError (one
block per row would spill registers; no silent fallback to torch). Cross-entropy is the exception: it
steps along its (vocabulary-long) rows `block` lanes at a time and returns the mean loss. The kernels
avoid `.to()` on Python scalars and take eps as an argument, so they also run under Triton's CPU
interpreter (TRITON_INTERPRET=1).

Why one module: the templates are one family (rows of the last dim, the same launch fields filled in
by one `source`), and most of the length is kernel text that reads best beside its siblings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from string import Template

MAX_ROW = 65536
REQUIRED_IMPORTS: tuple[str, ...] = ("import torch", "import triton", "import triton.language as tl")


@dataclass(frozen=True)
class LaunchConfig:
    num_warps: int
    rows_per_program: int = 1  # rows one program handles, one after the other
    block: int = 0  # lanes of one step along a row, for the kernels that loop over it (0: the whole row)

    def slug(self) -> str:
        tail = f"-b{self.block}" if self.block else ""
        return f"w{self.num_warps}-r{self.rows_per_program}{tail}"


class FusedOp(enum.StrEnum):
    RMS_NORM = "rms_norm"  # _kw_rms_norm(x, weight, eps): x * rsqrt(mean(x*x, -1) + eps) * weight
    LAYER_NORM = "layer_norm"  # _kw_layer_norm(x, weight, bias, eps): F.layer_norm over the last dim
    SOFTMAX = "softmax"  # _kw_softmax(x): torch.softmax(x, dim=-1)
    LOG_SOFTMAX = "log_softmax"  # _kw_log_softmax(x): F.log_softmax(x, dim=-1)
    CROSS_ENTROPY = "cross_entropy"  # _kw_cross_entropy(logits, targets): F.cross_entropy, mean reduction
    SILU_MUL = "silu_mul"  # _kw_silu_mul(a, b): F.silu(a) * b
    GELU_MUL = "gelu_mul"  # _kw_gelu_mul(a, b, approximate): F.gelu(a, approximate=approximate) * b


def wrapper_name(op: FusedOp) -> str:
    """The Python function a rewrite calls."""
    return f"_kw_{op.value}"


# Expected best first, for rows of a few thousand elements on an H100/H200: one row per program with
# 8 warps keeps a 4096-wide row at 16 elements a thread (vectorised 16-byte loads, no spills); the others
# cover wider rows (16 warps) and narrower ones (fewer warps, several rows a program).
_REDUCTION_CONFIGS = (LaunchConfig(8), LaunchConfig(4), LaunchConfig(16), LaunchConfig(4, 2))
_ELEMENTWISE_CONFIGS = (LaunchConfig(8), LaunchConfig(4), LaunchConfig(4, 2), LaunchConfig(16))
# Cross-entropy reads a vocabulary-long row (50k logits: one block of them would spill) in steps of
# `block` lanes with an online logsumexp, so each logit is read once and nothing row-sized is written.
_LOOPED_CONFIGS = (
    LaunchConfig(8, block=4096),
    LaunchConfig(16, block=8192),
    LaunchConfig(4, block=2048),
    LaunchConfig(16, block=4096),
)

_CONFIGS: dict[FusedOp, tuple[LaunchConfig, ...]] = {
    FusedOp.RMS_NORM: _REDUCTION_CONFIGS,
    FusedOp.LAYER_NORM: _REDUCTION_CONFIGS,
    FusedOp.SOFTMAX: _REDUCTION_CONFIGS,
    FusedOp.LOG_SOFTMAX: _REDUCTION_CONFIGS,
    FusedOp.CROSS_ENTROPY: _LOOPED_CONFIGS,
    FusedOp.SILU_MUL: _ELEMENTWISE_CONFIGS,
    FusedOp.GELU_MUL: _ELEMENTWISE_CONFIGS,
}


def configs(op: FusedOp) -> tuple[LaunchConfig, ...]:
    """The launch-config search space for `op`, the expected best first."""
    return _CONFIGS[op]


# Templates: `source` fills in $slug, $num_warps, $rows, $grid and $max_row. Python's own braces stay as
# they are, so the text reads as the code it becomes.

# The loop every one-block-a-row kernel opens with ($each_row in the templates): ROWS_PER_PROGRAM rows a
# program, `offs` the row's elements, `mask` the lanes inside the row and inside the tensor.
_EACH_ROW = """\
    for i in tl.static_range(ROWS_PER_PROGRAM):
        row = tl.program_id(0) * ROWS_PER_PROGRAM + i
        mask = col_mask & (row < n_rows)
        offs = row.to(tl.int64) * n_cols + cols"""

_RMS_NORM = Template('''\
@triton.jit
def _kw_rms_norm_kernel(
    x_ptr, w_ptr, y_ptr, n_rows, n_cols, eps,
    HAS_WEIGHT: tl.constexpr, BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr,
):
    cols = tl.arange(0, BLOCK)
    col_mask = cols < n_cols
    if HAS_WEIGHT:
        w = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
$each_row
        x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        rstd = tl.rsqrt(tl.sum(x * x, axis=0) / n_cols + eps)
        y = x * rstd
        if HAS_WEIGHT:
            y = y * w
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


def _kw_rms_norm(x: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm over the last dim, x * rsqrt(mean(x * x) + eps) * weight, in one fused pass.

    Triton kernel (kernelwright fused rms_norm, launch config $slug): accumulates in float32 and
    returns a tensor of x's shape and dtype. Rows longer than $max_row elements raise ValueError.
    """
    n_cols = x.shape[-1]
    if n_cols > $max_row:
        raise ValueError(f"_kw_rms_norm: rows of {n_cols} elements exceed the one-block limit of $max_row")
    if weight is not None and weight.numel() != n_cols:
        raise ValueError(f"_kw_rms_norm: weight has {weight.numel()} elements for rows of {n_cols}")
    rows = x.contiguous().view(-1, n_cols)
    out = torch.empty_like(rows)
    n_rows = rows.shape[0]
    if out.numel() > 0:
        w = weight.contiguous() if weight is not None else rows
        _kw_rms_norm_kernel[($grid,)](
            rows, w, out, n_rows, n_cols, eps,
            HAS_WEIGHT=weight is not None, BLOCK=triton.next_power_of_2(n_cols), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
    return out.view(x.shape)
''')

_LAYER_NORM = Template('''\
@triton.jit
def _kw_layer_norm_kernel(
    x_ptr, w_ptr, b_ptr, y_ptr, n_rows, n_cols, eps,
    HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr,
):
    cols = tl.arange(0, BLOCK)
    col_mask = cols < n_cols
    if HAS_WEIGHT:
        w = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
    if HAS_BIAS:
        b = tl.load(b_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
$each_row
        x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        mean = tl.sum(x, axis=0) / n_cols
        diff = tl.where(mask, x - mean, 0.0)
        rstd = tl.rsqrt(tl.sum(diff * diff, axis=0) / n_cols + eps)
        y = diff * rstd
        if HAS_WEIGHT:
            y = y * w
        if HAS_BIAS:
            y = y + b
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


def _kw_layer_norm(
    x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None, eps: float = 1e-5
) -> torch.Tensor:
    """LayerNorm over the last dim, F.layer_norm(x, (x.shape[-1],), weight, bias, eps), in one fused pass.

    Triton kernel (kernelwright fused layer_norm, launch config $slug): accumulates in float32 and
    returns a tensor of x's shape and dtype. Rows longer than $max_row elements raise ValueError.
    """
    n_cols = x.shape[-1]
    if n_cols > $max_row:
        raise ValueError(f"_kw_layer_norm: rows of {n_cols} elements exceed the one-block limit of $max_row")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != n_cols:
            raise ValueError(f"_kw_layer_norm: {name} has {t.numel()} elements for rows of {n_cols}")
    rows = x.contiguous().view(-1, n_cols)
    out = torch.empty_like(rows)
    n_rows = rows.shape[0]
    if out.numel() > 0:
        w = weight.contiguous() if weight is not None else rows
        b = bias.contiguous() if bias is not None else rows
        _kw_layer_norm_kernel[($grid,)](
            rows, w, b, out, n_rows, n_cols, eps,
            HAS_WEIGHT=weight is not None, HAS_BIAS=bias is not None,
            BLOCK=triton.next_power_of_2(n_cols), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
    return out.view(x.shape)
''')

# Softmax and log-softmax: one block a row, the row read once; `@BODY@` turns the row `x` (float32, masked
# lanes at -inf) into `y`. The names and the doc line are filled in first, the launch fields by `source`.
_ROW_MAP = '''\
@triton.jit
def _kw_@NAME@_kernel(
    x_ptr, y_ptr, n_rows, n_cols, BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr
):
    cols = tl.arange(0, BLOCK)
    col_mask = cols < n_cols
$each_row
        x = tl.load(x_ptr + offs, mask=mask, other=-float("inf")).to(tl.float32)
@BODY@
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


def _kw_@NAME@(x: torch.Tensor) -> torch.Tensor:
    """@WHAT@

    Triton kernel (kernelwright fused @NAME@, launch config $slug): accumulates in float32 and
    returns a tensor of x's shape and dtype. Rows longer than $max_row elements raise ValueError.
    """
    n_cols = x.shape[-1]
    if n_cols > $max_row:
        raise ValueError(f"_kw_@NAME@: rows of {n_cols} elements exceed the one-block limit of $max_row")
    rows = x.contiguous().view(-1, n_cols)
    out = torch.empty_like(rows)
    n_rows = rows.shape[0]
    if out.numel() > 0:
        _kw_@NAME@_kernel[($grid,)](
            rows, out, n_rows, n_cols,
            BLOCK=triton.next_power_of_2(n_cols), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
    return out.view(x.shape)
'''


def _row_map(name: str, what: str, *body: str) -> Template:
    lines = "\n".join(" " * 8 + line for line in body)
    return Template(_ROW_MAP.replace("@NAME@", name).replace("@WHAT@", what).replace("@BODY@", lines))


_SOFTMAX = _row_map(
    "softmax",
    "Softmax over the last dim, torch.softmax(x, dim=-1), in one fused pass.",
    "num = tl.exp(x - tl.max(x, axis=0))",
    "y = num / tl.sum(num, axis=0)",
)
_LOG_SOFTMAX = _row_map(
    "log_softmax",
    "Log-softmax over the last dim, F.log_softmax(x, dim=-1), in one fused pass: x - logsumexp(x).",
    "shifted = x - tl.max(x, axis=0)",
    "y = shifted - tl.log(tl.sum(tl.exp(shifted), axis=0))",
)

# One program a row: the first step of the row sets the running max and sum, each further step rescales
# them (an online logsumexp), so the logits are read once. The row's loss and whether it counts go to two
# float32 vectors; a one-program kernel sums both and writes the mean, as F.cross_entropy's reduction.
_CROSS_ENTROPY = Template('''\
@triton.jit
def _kw_cross_entropy_kernel(
    x_ptr, t_ptr, loss_ptr, valid_ptr, n_rows, n_cols, ignore_index,
    BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr,
):
    cols = tl.arange(0, BLOCK)
    for i in tl.static_range(ROWS_PER_PROGRAM):
        row = tl.program_id(0) * ROWS_PER_PROGRAM + i
        if row < n_rows:
            row_ptr = x_ptr + row.to(tl.int64) * n_cols
            x = tl.load(row_ptr + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m = tl.max(x, axis=0)
            s = tl.sum(tl.exp(x - m), axis=0)
            for start in range(BLOCK, n_cols, BLOCK):
                x = tl.load(row_ptr + start + cols, mask=start + cols < n_cols, other=-float("inf"))
                x = x.to(tl.float32)
                m_new = tl.maximum(m, tl.max(x, axis=0))
                s = s * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
                m = m_new
            t = tl.load(t_ptr + row)
            valid = t != ignore_index
            picked = tl.load(row_ptr + tl.where(valid & (t >= 0) & (t < n_cols), t, 0)).to(tl.float32)
            tl.store(loss_ptr + row, tl.where(valid, m + tl.log(s) - picked, 0.0))
            tl.store(valid_ptr + row, valid.to(tl.float32))


@triton.jit
def _kw_cross_entropy_mean_kernel(loss_ptr, valid_ptr, out_ptr, n_rows, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    total = tl.sum(tl.load(loss_ptr + offs, mask=offs < n_rows, other=0.0), axis=0)
    count = tl.sum(tl.load(valid_ptr + offs, mask=offs < n_rows, other=0.0), axis=0)
    for start in range(BLOCK, n_rows, BLOCK):
        more = start + offs < n_rows
        total += tl.sum(tl.load(loss_ptr + start + offs, mask=more, other=0.0), axis=0)
        count += tl.sum(tl.load(valid_ptr + start + offs, mask=more, other=0.0), axis=0)
    tl.store(out_ptr, (total / count).to(out_ptr.dtype.element_ty))


def _kw_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of (N, C) logits against (N,) class indices, F.cross_entropy(logits, targets,
    ignore_index=ignore_index), without writing the log-probabilities.

    Triton kernels (kernelwright fused cross_entropy, launch config $slug): an online logsumexp
    over each row in float32, then the mean over the rows whose target is not ignore_index (NaN when
    none is), in the logits' dtype. Other shapes or a non-integer target raise ValueError.
    """
    if logits.dim() != 2 or targets.dim() != 1 or targets.shape[0] != logits.shape[0]:
        raise ValueError(
            f"_kw_cross_entropy: needs (N, C) logits and (N,) targets, not {tuple(logits.shape)} and "
            f"{tuple(targets.shape)}"
        )
    if targets.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"_kw_cross_entropy: targets must be class indices (int64), not {targets.dtype}")
    x = logits.contiguous()
    t = targets.contiguous()
    n_rows, n_cols = x.shape
    losses = torch.empty(n_rows, dtype=torch.float32, device=x.device)
    valid = torch.empty(n_rows, dtype=torch.float32, device=x.device)
    out = torch.empty((), dtype=x.dtype, device=x.device)
    if n_rows > 0 and n_cols > 0:
        _kw_cross_entropy_kernel[($grid,)](
            x, t, losses, valid, n_rows, n_cols, ignore_index,
            BLOCK=min(triton.next_power_of_2(n_cols), $block), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
        _kw_cross_entropy_mean_kernel[(1,)](losses, valid, out, n_rows, BLOCK=1024)
    else:
        out.fill_(float("nan"))
    return out
''')

# The gated activations share the wrapper's checks and launch; only the kernel body differs.
_GATED_WRAPPER_CHECKS = """\
    if a.shape != b.shape:
        raise ValueError(f"$name: a {tuple(a.shape)} and b {tuple(b.shape)} must have the same shape")
    n_cols = a.shape[-1]
    if n_cols > $max_row:
        raise ValueError(f"$name: rows of {n_cols} elements exceed the one-block limit of $max_row")
    a_rows = a.contiguous().view(-1, n_cols)
    b_rows = b.contiguous().view(-1, n_cols)
    out = torch.empty(a_rows.shape, dtype=torch.promote_types(a.dtype, b.dtype), device=a.device)
    n_rows = a_rows.shape[0]
"""

_SILU_MUL = Template(
    '''\
@triton.jit
def _kw_silu_mul_kernel(
    a_ptr, b_ptr, y_ptr, n_rows, n_cols, BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr
):
    cols = tl.arange(0, BLOCK)
    col_mask = cols < n_cols
$each_row
        a = tl.load(a_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        y = a * tl.sigmoid(a) * b
        tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


def _kw_silu_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The gated activation F.silu(a) * b, in one fused pass over a and b.

    Triton kernel (kernelwright fused silu_mul, launch config $slug): computes in float32 and
    returns a tensor of a's shape in the promoted dtype of a and b. Rows longer than $max_row
    elements raise ValueError.
    """
'''
    + _GATED_WRAPPER_CHECKS
    + """\
    if out.numel() > 0:
        _kw_silu_mul_kernel[($grid,)](
            a_rows, b_rows, out, n_rows, n_cols,
            BLOCK=triton.next_power_of_2(n_cols), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
    return out.view(a.shape)
"""
)

# tanh is written out through exp: Triton's tl.math has no tanh (the CUDA one is libdevice's, which the
# interpreter lacks). Taking exp of -2|z| keeps it in (0, 1], so large |z| saturates to +-1 with no overflow.
_GELU_MUL = Template(
    '''\
@triton.jit
def _kw_gelu_mul_kernel(
    a_ptr, b_ptr, y_ptr, n_rows, n_cols,
    TANH: tl.constexpr, BLOCK: tl.constexpr, ROWS_PER_PROGRAM: tl.constexpr,
):
    cols = tl.arange(0, BLOCK)
    col_mask = cols < n_cols
$each_row
        a = tl.load(a_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        if TANH:
            z = 0.7978845608028654 * (a + 0.044715 * a * a * a)  # sqrt(2 / pi) * (a + 0.044715 a^3)
            e = tl.exp(-2.0 * tl.abs(z))  # tanh(|z|) = (1 - e) / (1 + e), no overflow
            tanh_z = tl.where(z >= 0, (1.0 - e) / (1.0 + e), (e - 1.0) / (1.0 + e))
            gelu = 0.5 * a * (1.0 + tanh_z)
        else:
            gelu = 0.5 * a * (1.0 + tl.math.erf(a * 0.7071067811865476))  # 0.5 * a * (1 + erf(a / sqrt(2)))
        tl.store(y_ptr + offs, (gelu * b).to(y_ptr.dtype.element_ty), mask=mask)


def _kw_gelu_mul(a: torch.Tensor, b: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """The gated activation F.gelu(a, approximate=approximate) * b, in one fused pass over a and b.

    Triton kernel (kernelwright fused gelu_mul, launch config $slug): approximate is "none" (erf) or
    "tanh"; computes in float32 and returns a tensor of a's shape in the promoted dtype of a and b.
    Rows longer than $max_row elements raise ValueError.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"_kw_gelu_mul: approximate must be 'none' or 'tanh', not {approximate!r}")
'''
    + _GATED_WRAPPER_CHECKS
    + """\
    if out.numel() > 0:
        _kw_gelu_mul_kernel[($grid,)](
            a_rows, b_rows, out, n_rows, n_cols,
            TANH=approximate == "tanh", BLOCK=triton.next_power_of_2(n_cols), ROWS_PER_PROGRAM=$rows,
            num_warps=$num_warps,
        )
    return out.view(a.shape)
"""
)

_TEMPLATES: dict[FusedOp, Template] = {
    FusedOp.RMS_NORM: _RMS_NORM,
    FusedOp.LAYER_NORM: _LAYER_NORM,
    FusedOp.SOFTMAX: _SOFTMAX,
    FusedOp.LOG_SOFTMAX: _LOG_SOFTMAX,
    FusedOp.CROSS_ENTROPY: _CROSS_ENTROPY,
    FusedOp.SILU_MUL: _SILU_MUL,
    FusedOp.GELU_MUL: _GELU_MUL,
}


def source(op: FusedOp, config: LaunchConfig) -> str:
    """The kernel and its wrapper `wrapper_name(op)` for `op` under `config`, as module-level source.

    The text needs `REQUIRED_IMPORTS` above it and defines only names that start with `_kw_`.
    """
    warps = config.num_warps
    if warps < 1 or warps > 32 or warps & (warps - 1):
        raise ValueError(f"num_warps must be a power of 2 from 1 to 32, not {warps}")
    if config.rows_per_program < 1:
        raise ValueError(f"rows_per_program must be at least 1, not {config.rows_per_program}")
    if config.block < 0 or config.block & (config.block - 1):
        raise ValueError(f"block must be 0 (the whole row) or a power of 2, not {config.block}")
    return _TEMPLATES[op].substitute(
        name=wrapper_name(op),
        slug=config.slug(),
        num_warps=warps,
        rows=config.rows_per_program,
        grid="n_rows" if config.rows_per_program == 1 else f"triton.cdiv(n_rows, {config.rows_per_program})",
        max_row=MAX_ROW,
        block=config.block or MAX_ROW,
        each_row=_EACH_ROW,
    )
