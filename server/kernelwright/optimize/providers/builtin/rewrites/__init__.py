"""Rewrites a kernel engineer tries first on torch code, as edits of the person's own file.

Each family looks for its pattern in the site's function (a module's `forward`, or the function),
written the ways people write it, and proposes the file with the pattern replaced:

- `sdpa`: attention written out (scores = q @ k^T times a scale, an optional causal or other mask,
  softmax over the last dim, @ v) -> `scaled_dot_product_attention` with that mask and scale, which
  never materialises the scores (flash / memory-efficient kernels); on a GPU also `sdpa-cudnn` and
  `sdpa-efficient`, the same call held to one of SDPA's other kernels;
- `linear`: a matmul followed by a bias add -> `F.linear` (the bias in the GEMM's epilogue);
- `addmm-act`: ReLU (or tanh-GELU on a GPU) of a linear with bias -> one `torch._addmm_activation`
  call, which cuBLASLt runs with bias and activation in its epilogue;
- `triton`: RMSNorm, LayerNorm, softmax, log-softmax, cross-entropy (mean over rows), SiLU*mul and
  GELU*mul -> single-pass Triton kernels (fused_kernels.py), with their launch configuration searched;
- `liger`: the norms, softmax and gated activations -> liger-kernel's kernels, where liger-kernel is
  installed;
- `torch-ops`: a chain written out that torch has one op for (softmax from exp / sum, log of softmax,
  cross-entropy from log_softmax + gather, tanh-GELU from its formula);
- `all`: every family that applies, one after the other.

A rewrite is a proposal: the loop verifies it like any candidate, so a match that is wrong for the
person's shapes or dtypes (a mask that is not what it looks like, a rank addmm cannot take) is simply
rejected. The statements that fed only the replaced chain are removed (flow.remove_dead_assignments),
or the candidate would still compute them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin import fused_kernels
from kernelwright.optimize.providers.builtin.fused_kernels import FusedOp
from kernelwright.optimize.providers.builtin.rewrites.attention import SDPA_BACKENDS, attention, attention_on
from kernelwright.optimize.providers.builtin.rewrites.chains import torch_ops
from kernelwright.optimize.providers.builtin.rewrites.epilogue import addmm_act, linear_bias
from kernelwright.optimize.providers.builtin.rewrites.fused import liger_kernels, triton
from kernelwright.optimize.providers.builtin.rewrites.scope import Matcher, Target, apply


@dataclass(frozen=True)
class Rewrite:
    slug: str  # for candidate ids: "sdpa", "triton-w4-r1", "all-w4-r1"
    why: str  # the candidate's rationale
    file_text: str


def liger_available() -> bool:
    return importlib.util.find_spec("liger_kernel") is not None


def rewrites(
    file_text: str, site_name: str, kind: SiteKind, on_gpu: bool, liger: bool | None = None
) -> list[Rewrite]:
    """Every rewrite family that applies to the site, in the order they are worth trying."""
    try:
        targets = Target.all_of(file_text, site_name, kind)
    except SyntaxError:
        return []
    if not targets:
        return []
    # Without a GPU, Triton runs only under its interpreter, where nothing can be timed (and liger's
    # kernels do not run at all): a fused-kernel candidate could verify but never win, so none is made.
    use_liger = on_gpu and (liger_available() if liger is None else liger)
    families: list[tuple[str, tuple[Matcher, ...], str]] = [
        ("sdpa", (attention,), "scaled_dot_product_attention: the scores never leave on-chip memory"),
        ("torch-ops", (torch_ops,), "the one torch op for a chain written out: one pass instead of several"),
        ("addmm-act", (addmm_act,), "one GEMM with bias and activation in its epilogue (cuBLASLt)"),
        ("linear", (linear_bias,), "F.linear: the bias add runs in the GEMM's epilogue"),
    ]
    found: list[Rewrite] = []
    for slug, matchers, why in families:
        applied = apply(file_text, targets, matchers, on_gpu)
        if applied is not None:
            found.append(Rewrite(slug, f"{why} ({', '.join(applied[1])})", applied[0]))
    if on_gpu and any(r.slug == "sdpa" for r in found):
        for backend in SDPA_BACKENDS:
            applied = apply(file_text, targets, (attention_on(backend),), on_gpu)
            if applied is not None:
                why = f"scaled_dot_product_attention on its {backend} kernel ({', '.join(applied[1])})"
                found.append(Rewrite(f"sdpa-{backend}", why, applied[0]))
    if use_liger:
        applied = apply(file_text, targets, (liger_kernels,), on_gpu)
        if applied is not None:
            found.append(
                Rewrite("liger", f"liger-kernel's fused kernels ({', '.join(applied[1])})", applied[0])
            )
    n_configs = max(len(fused_kernels.configs(op)) for op in FusedOp) if on_gpu else 0
    for index in range(n_configs):
        applied = apply(file_text, targets, (triton(index),), on_gpu)
        if applied is None:
            break
        slug = "triton-" + _config_slug(index)
        found.append(Rewrite(slug, f"single-pass fused Triton kernels ({', '.join(applied[1])})", applied[0]))
    # Everything at once: attention, then epilogues, then the fused kernels on what is left.
    text, whats = file_text, list[str]()
    steps: tuple[tuple[Matcher, ...], ...] = ((attention,), (torch_ops,), (addmm_act,), (linear_bias,))
    for matchers in (*steps, (triton(0),)) if on_gpu else steps:
        applied = apply(text, targets, matchers, on_gpu)
        if applied is not None:
            text, whats = applied[0], whats + applied[1]
    if len(whats) > 1 and all(r.file_text != text for r in found):
        found.insert(0, Rewrite("all", f"every rewrite that applies ({', '.join(whats)})", text))
    return found


def _config_slug(index: int) -> str:
    return f"c{index}"
