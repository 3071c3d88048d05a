"""The float64 oracle: the reference computed in float64 (and in bfloat16, for what a lower precision
costs), and what a candidate's distance from it means: a precision downgrade (`precision`), a wrong
result (`value`), or, where the reference itself computes at reduced precision, a candidate as exact as
the reference (docs/PITFALLS.md 13). The judge's verification (harness/verify.py) and its timed-output
check (harness/interleave.py) both ask here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from kernelwright.core.measure import CheckName, Flag
from kernelwright.harness.compare import (
    Mismatch,
    as_exact_as_reference,
    compare,
    error_norms,
    flatten,
    tensors_in,
)
from kernelwright.harness.device import Target, free_bytes, gib
from kernelwright.harness.problem import Problem
from kernelwright.harness.verify_context import Context, Rejected

# The float64 oracle runs only where its copies need at most this share of the memory free.
FLOAT64_SHARE = 0.5
PRECISION_FACTOR = 100.0  # candidate error may be this many times the reference's own error
PRECISION_FLOOR = {torch.float32: 1e-5, torch.float64: 1e-12}  # below these, any error is fine


def cast_to(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, tuple | list):
        return type(value)(cast_to(v, dtype) for v in value)
    return value


def reference_in(reference: Problem, args: tuple[Any, ...], dtype: torch.dtype) -> Any | None:
    """The reference computed in `dtype` (its parameters and floating inputs cast), or None where that
    is not possible (Triton/CUDA, an op without that dtype, outputs in another dtype)."""
    if reference.output_args or reference.uses_triton:
        return None
    try:
        fn: Callable[..., Any]
        if isinstance(reference.target, torch.nn.Module):
            fn = copy.deepcopy(reference.target).to(dtype)
        else:
            fn = reference.target
        with torch.inference_mode():
            out = fn(*cast_to(args, dtype))
    except Exception:
        return None
    outs = [t for t in tensors_in(out) if t.is_floating_point()]
    if not outs or any(t.dtype != dtype for t in outs):
        return None
    return out


def reference_in_float64(reference: Problem, args: tuple[Any, ...]) -> Any | None:
    """The exact answer, as near as the machine gives it (the precision oracle)."""
    return reference_in(reference, args, torch.float64)


def lower_precision_error(reference: Problem, args: tuple[Any, ...], ref64: Any) -> float | None:
    """How far the reference itself lands from float64 when it computes in bfloat16: the error a
    lower-precision computation of the same problem makes, against which a candidate's is judged."""
    low = reference_in(reference, args, torch.bfloat16)
    if low is None:
        return None
    return max(error_norms(cast_to(low, torch.float64), ref64), default=None)


def float64_answer(reference: Problem, seed: int, out_r: Any, target: Target) -> tuple[Any | None, str]:
    """The reference in float64 on `seed`'s inputs, when it fits in the memory free now (a float64 copy
    of the inputs, the parameters and the outputs beside what the problem holds); else None and why."""
    args = reference.draw(seed)
    module = reference.target if isinstance(reference.target, torch.nn.Module) else None
    held = [*tensors_in(args), *tensors_in(out_r), *(module.parameters() if module is not None else ())]
    need = sum(t.numel() * 8 for t in held if t.is_floating_point())
    free = free_bytes(target)
    if free is not None and need > FLOAT64_SHARE * free:
        return None, (
            f"the float64 run of the reference needs about {gib(need)} and {gib(free)} is free on "
            f"{target.info.name}"
        )
    out = reference_in_float64(reference, args)
    return out, "" if out is not None else "the reference cannot run in float64 here"


NEAR_CHECKS = (CheckName.VALUE, CheckName.ERROR_NORM)  # mismatches that may be a precision problem
EXACT_NOTE = (
    "outputs differ from the reference's by more than the tolerance where the reference computes at "
    "reduced precision, but are as close to the float64 answer as the reference's"
)


def judged_mismatch(
    ctx: Context,
    reference: Problem,
    seed: int,
    outputs: tuple[Any, Any],
    exact: Any | None,
    tolerance: tuple[float | None, float | None, float],
    what: str,
) -> Mismatch | None:
    """The candidate's outputs against the reference's (`outputs`, on `seed`'s inputs; `tolerance` is
    atol, rtol and the norm slack). A near miss is no mismatch when the candidate is as close to the
    float64 answer (`exact`, computed here when None) as the reference itself
    (compare.as_exact_as_reference): the reference computes at reduced precision and both are right.
    Noted on the verdict, once, when so; otherwise the mismatch's message says why not."""
    (out_c, out_r), (atol, rtol, slack) = outputs, tolerance
    mismatch = compare(out_c, out_r, atol, rtol, slack, check_norm=ctx.checks_norm)
    if mismatch is None or mismatch.check not in NEAR_CHECKS:
        return mismatch
    if exact is None:
        exact, unavailable = float64_answer(reference, seed, out_r, ctx.target)
        if exact is None:
            return _against_float64(mismatch, unavailable or "no float64 answer")
    why = as_exact_as_reference(out_c, out_r, exact, atol, rtol)
    if why is not None:
        return _against_float64(mismatch, why)
    if not any(n.startswith(EXACT_NOTE) for n in ctx.notes):
        ctx.notes.append(f"{EXACT_NOTE} (first in {what})")
    return None


# A candidate within this many times the bfloat16 reference's error from float64 computes the right thing
# in lower precision; beyond it, the result is wrong (a candidate 1% off is wrong: bfloat16 is ~0.4%).
LOWER_PRECISION_FACTOR = 2.0
NEAR_FALLBACK = 2.0 * 2.0**-8  # where the reference cannot run in bfloat16: twice bfloat16's unit roundoff


def check_precision(ctx: Context, out_c: Any, ref64: Any, ref_err: float, near: float | None = None) -> None:
    """The candidate's distance from the float64 answer must be of the order of the reference's own.

    With `near`, only errors up to it count (naming a value mismatch a precision problem rather than a
    wrong result: `near` is how far a lower-precision computation of the problem lands)."""
    for (label, c), (_, r) in zip(flatten(out_c), flatten(ref64), strict=True):
        if not (isinstance(c, torch.Tensor) and c.is_floating_point()):
            continue
        floor = PRECISION_FLOOR.get(c.dtype)
        if floor is None:
            continue  # half-precision outputs: the tolerance is already the precision
        err = error_norms(c, r)[0] if c.shape == r.shape else 0.0
        bound = max(PRECISION_FACTOR * ref_err, floor)
        if err > bound and not (near is not None and err > near):
            ctx.flag(Flag.PRECISION_DOWNGRADE)
            raise Rejected(
                CheckName.PRECISION,
                f"{label}: error vs a float64 run is {err:.3g}, the reference's own is {ref_err:.3g} "
                f"(allowed {bound:.3g}): the candidate computes in lower precision than its {c.dtype} output "
                f"says",
                details={"candidate_error_fp64": err, "reference_error_fp64": ref_err, "bound": bound},
                trial=1,
            )


def _against_float64(mismatch: Mismatch, why: str) -> Mismatch:
    """The mismatch, saying why the float64 answer did not settle it."""
    return replace(mismatch, message=f"{mismatch.message} (against float64: {why})")
