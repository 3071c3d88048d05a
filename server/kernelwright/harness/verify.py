"""Verification, as the judge does it: a candidate passes only if every check holds; a rejection names
the check that failed.

The judge (this module, in a worker that never runs candidate code) loads the reference, draws every
input, computes the reference's outputs and decides. The candidate runs in its own worker, which the
judge asks through `CandidateLine`: it draws the same inputs from the judge's seeds, calls the candidate
on NaN-poisoned memory and writes the outputs to a file the judge parses as untrusted data.

Order per job: static tamper and fallback scans of the candidate's text; load the reference here and the
candidate there; the reference's own error (twice for determinism, in float64 for precision); null-
candidate refusal; trials on inputs from seeds the candidate cannot know in advance (outputs, input
checksums before and after); the same buffers refilled in place must give new correct results (replay);
then, when asked, the interleaved timing (harness.interleave).
"""

from __future__ import annotations

import copy
import math
import os
import secrets
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from kernelwright.core.jobs import BenchOptions, ProblemRef, VerifyJob, candidate_symbol
from kernelwright.core.judging import CandidateLoad, JudgeJob
from kernelwright.core.measure import CheckName, Flag, Phase, Verdict
from kernelwright.core.site import CudaSpec, FunctionSpec, ModuleSpec
from kernelwright.harness import clock
from kernelwright.harness.candidate_line import CandidateLine
from kernelwright.harness.compare import (
    Mismatch,
    as_exact_as_reference,
    compare,
    error_norms,
    flatten,
    map_tensors,
    tensors_in,
    tolerance_for,
)
from kernelwright.harness.cuda_build import CompileError, check_with_nvcc
from kernelwright.harness.device import Target, free_bytes, gib, machine_lacks
from kernelwright.harness.exchange import input_checksums
from kernelwright.harness.poison import nbytes_of
from kernelwright.harness.problem import (
    Problem,
    RefusedError,
    build_cuda_problem,
    build_python_problem,
    call_seed,
    seed_all,
)
from kernelwright.harness.source import LoadError, error_place
from kernelwright.harness.tamper import static_fallback, static_tamper
from kernelwright.harness.verify_context import Context, Rejected

BASE_SEED = 20_251
# The float64 oracle runs only where its copies need at most this share of the memory free.
FLOAT64_SHARE = 0.5
PRECISION_FACTOR = 100.0  # candidate error may be this many times the reference's own error
PRECISION_FLOOR = {torch.float32: 1e-5, torch.float64: 1e-12}  # below these, any error is fine


def load_side(
    ref: ProblemRef,
    path: str,
    source: str,
    symbol: str,
    target: Target,
    role: str,
    options: BenchOptions,
    spec_override: CudaSpec | None = None,
    inputs_module: types.ModuleType | None = None,
) -> Problem:
    spec = ref.spec
    if isinstance(spec, CudaSpec):
        cspec = spec_override or spec
        if symbol != cspec.kernel:
            cspec = replace(cspec, kernel=symbol)
        return build_cuda_problem(
            path=path, source=source, spec=cspec, kind=ref.kind, device=target.device, role=role
        )
    assert isinstance(spec, ModuleSpec | FunctionSpec)
    return build_python_problem(
        path=path,
        source=source,
        symbol=symbol,
        spec=spec,
        kind=ref.kind,
        device=target.device,
        role=role,
        inputs_module=inputs_module,
    )


def _sync(target: Target) -> None:
    if target.is_cuda:
        clock.cuda_synchronize(target.device)


def run_guarded(problem: Problem, args: tuple[Any, ...], target: Target, who: str) -> Any:
    """Call and synchronise; exceptions become a RUN rejection with the line in the person's file."""
    try:
        with torch.inference_mode():
            out = problem(args)
        _sync(target)
    except Exception as exc:
        lacks = machine_lacks(exc, target, f"the {who}")
        if lacks is not None:
            raise Rejected(CheckName(lacks[0]), lacks[1]) from None
        place = error_place(exc, problem.path)
        where = f" at line {place.line + 1}" if place.line is not None else ""
        raise Rejected(
            CheckName.RUN,
            f"the {who} raised {type(exc).__name__}{where}: {exc}",
            traceback_tail=place.tail,
            line=place.line,
        ) from None
    return out


def _cast(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, tuple | list):
        return type(value)(_cast(v, dtype) for v in value)
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
            out = fn(*_cast(args, dtype))
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
    return max(error_norms(_cast(low, torch.float64), ref64), default=None)


def _null_candidates(ref_out: Any, args: tuple[Any, ...]) -> list[tuple[str, Any]]:
    def like(fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
        return map_tensors(ref_out, fn)

    nulls: list[tuple[str, Any]] = [
        ("all zeros", like(torch.zeros_like)),
        (
            "random noise",
            like(lambda t: torch.randn_like(t) if t.is_floating_point() else torch.zeros_like(t)),
        ),
    ]
    inputs = [a for a in args if isinstance(a, torch.Tensor)]

    def copy_of_input(t: torch.Tensor) -> torch.Tensor:
        for a in inputs:
            if a.shape == t.shape and a.dtype == t.dtype:
                return a.clone()
        return torch.zeros_like(t)

    if inputs:
        nulls.append(("a copy of an input", like(copy_of_input)))
    return nulls


def _refuse_null_problem(ref_out: Any, args: tuple[Any, ...], atol: float | None, rtol: float | None) -> None:
    for name, null in _null_candidates(ref_out, args):
        if compare(null, ref_out, atol, rtol) is None:
            raise Rejected(
                CheckName.PROBLEM,
                f"problem refused: a null candidate ({name}) would pass this problem's checks, so passing "
                f"them would prove nothing. Choose inputs whose outputs are not {name} within the tolerances "
                f"(larger values, other sizes), or tighten atol/rtol in the directive.",
            )


def tolerances(ref: ProblemRef) -> tuple[float | None, float | None]:
    spec = ref.spec
    if isinstance(spec, FunctionSpec | CudaSpec):
        return spec.atol, spec.rtol
    return None, None


def verify(job: JudgeJob, target: Target) -> Verdict:
    """Judge a candidate that runs in another process (the job's candidate worker, asked through
    harness.channel): this process loads only the reference and decides the verdict from data."""
    ctx = Context(target)
    try:
        return _verify(job, ctx)
    except (Rejected, RefusedError, LoadError) as exc:
        rej = _as_rejection(exc)
        worker_error = rej.kw.get("worker_error")
        return Verdict(
            passed=False,
            check=rej.check,
            message=f"{rej.check.value}: {rej}",
            flags=tuple(ctx.flags),
            details=rej.kw.get("details", {}),
            device=target.info,
            trials=int(rej.kw.get("trial", 0)),
            traceback_tail=rej.kw.get("traceback_tail"),
            line=rej.kw.get("line"),
            notes=tuple(ctx.notes),
            worker_error=worker_error,
            stage_seconds=ctx.stages.merged({}),
        )


def _as_rejection(exc: Rejected | RefusedError | LoadError) -> Rejected:
    """The judge's own failures to run the reference (its input factory, here, on this machine) blame
    the problem or the machine, never the candidate."""
    if isinstance(exc, Rejected):
        return exc
    if isinstance(exc, RefusedError):
        return Rejected(CheckName.NO_GPU, str(exc))
    # The line is in the reference's file (the message names it), not the candidate's.
    return Rejected(CheckName.PROBLEM, f"the problem did not run: {exc}", traceback_tail=exc.tail)


def _reject_mismatch(m: Mismatch, trial: int, prefix: str = "") -> Rejected:
    return Rejected(
        m.check,
        f"{prefix}trial {trial + 1}: {m.message}",
        details={**m.details, "trial": trial + 1},
        trial=trial + 1,
    )


def _compile_check_candidate(path: str, source: str) -> None:
    try:
        check_with_nvcc(source, path)
    except CompileError as exc:
        raise _did_not_compile(exc) from None


def _did_not_compile(exc: CompileError) -> Rejected:
    return Rejected(
        CheckName.COMPILE,
        f"the candidate did not compile: {exc}",
        line=exc.line,
        traceback_tail=exc.log[-4000:],
    )


def _verify(judge_job: JudgeJob, ctx: Context) -> Verdict:
    job = judge_job.verify
    ref, cand = job.reference, job.candidate
    target = ctx.target
    symbol = candidate_symbol(ref, cand)

    with ctx.stages(Phase.STATIC):
        _static_checks(ref, cand.source, symbol, ctx)
    with ctx.stages(Phase.LOAD_REFERENCE):
        reference = _load_reference(job, ctx)
    ctx.notes.extend(reference.notes)
    if target.device.type == "cpu":
        ctx.flag(Flag.CPU_ONLY)
    line = CandidateLine(ctx, judge_job.exchange_dir)
    with ctx.stages(Phase.LOAD_CANDIDATE):
        loaded = line.load(CandidateLoad(job, judge_job.exchange_dir))
    if loaded.uses_triton and os.environ.get("TRITON_INTERPRET") == "1":
        ctx.flag(Flag.INTERPRETER)

    atol, rtol = tolerances(ref)

    # The reference against itself: determinism, float64 error level, null candidates.
    with ctx.stages(Phase.REFERENCE_CHECKS):
        args0 = reference.draw(BASE_SEED)
        ref_out = run_guarded(reference, args0, target, "reference")
        if not tensors_in(ref_out):
            raise Rejected(
                CheckName.PROBLEM, "the reference returns no tensor, so there is nothing to compare"
            )
        ref_again = run_guarded(reference, reference.draw(BASE_SEED), target, "reference")
        slack = 1.0
        spread = max(error_norms(ref_again, ref_out), default=0.0)
        if compare(ref_again, ref_out, 0.0, 0.0) is not None:
            ctx.flag(Flag.NON_DETERMINISTIC)
            ctx.notes.append(
                f"the reference is non-deterministic: two runs differ by relative error norm {spread:.3g}"
            )
            base_rtol = max((rtol or 0.0), 1e-12)
            slack = max(1.0, 10.0 * spread / base_rtol)
        _check_rng_dependence(ctx, reference, ref_out, target)
    with ctx.stages(Phase.NULL_CHECK):
        # Against the inputs as drawn, not as the call left them: a CUDA kernel's output buffer is an
        # argument, and after the call it holds the reference's own result.
        _refuse_null_problem(ref_out, reference.draw(BASE_SEED), atol, rtol)
    del ref_again, args0

    # Seeds the candidate cannot know before it is asked: no table of answers for them can be ready.
    seeds = _secret_seeds(max(1, job.trials) + 1)
    check = _Trials(job, ctx, reference, line, ref_out, slack)
    with ctx.stages(Phase.TRIALS):
        ref_err = check.trials(seeds[:-1])
    with ctx.stages(Phase.REFILL):
        check.refill(seeds[-1])
    trials = max(1, job.trials)
    where = target.info.label
    verdict = Verdict(
        passed=True,
        check=None,
        message=f"passed {trials} trials and the in-place refill on {where}",
        flags=tuple(ctx.flags),
        device=target.info,
        trials=trials,
        notes=tuple(ctx.notes),
        details={"reference_error_fp64": ref_err} if ref_err is not None else {},
        stage_seconds=ctx.stages.merged({}),
    )
    if not job.time_candidate:
        return verdict
    from kernelwright.harness.interleave import timed_verdict

    return timed_verdict(job, ctx, reference, line, ref_out, slack, verdict)


def _check_rng_dependence(ctx: Context, reference: Problem, ref_out: Any, target: Target) -> None:
    """The reference on the same inputs from another generator state: if its outputs change, they depend on
    torch's random generator (dropout, sampling), and the candidate must draw the same numbers in the same
    order. Both sides' generators are seeded alike before every call (problem.call_seed)."""
    if Flag.NON_DETERMINISTIC in ctx.flags:
        return  # it changes anyway: whether the generator is why cannot be told this way
    args = reference.draw(BASE_SEED)
    seed_all(call_seed(BASE_SEED + 1))
    if compare(run_guarded(reference, args, target, "reference"), ref_out, 0.0, 0.0) is None:
        return
    ctx.flag(Flag.RNG_DEPENDENT)
    ctx.notes.append(
        "the reference's outputs depend on torch's random generator (dropout or sampling): it is seeded "
        "alike before the reference's and the candidate's calls, so a candidate must draw the same random "
        "numbers in the same order (the same torch ops) to match"
    )


def _secret_seeds(n: int) -> list[int]:
    rng = secrets.SystemRandom()
    return [rng.randrange(1, 2**31 - 1) for _ in range(n)]


def _static_checks(ref: ProblemRef, source: str, symbol: str, ctx: Context) -> None:
    """Tampering is rejected before the candidate's code ever runs; a fallback is noted."""
    for hit in static_tamper(source):
        ctx.flag(Flag.TAMPER)
        raise Rejected(
            CheckName.TAMPER,
            f"tamper ({hit.rule}) at line {hit.line + 1}: assigns to `{hit.target}`; {hit.rationale}",
            line=hit.line,
        )
    ref_names = {ref.symbol}
    if isinstance(ref.spec, FunctionSpec) and ref.spec.reference:
        ref_names.add(ref.spec.reference)
    if isinstance(ref.spec, ModuleSpec):
        ref_names.add(ref.spec.model)
    fallbacks = static_fallback(source, ref_names, own=symbol)
    if fallbacks:
        ctx.flag(Flag.FALLBACK)
        ctx.notes.append(
            f"fallback: line {fallbacks[0].line + 1} {fallbacks[0].reason}; a candidate that runs the "
            f"reference is not a kernel"
        )


def _load_reference(job: VerifyJob, ctx: Context) -> Problem:
    ref, cand = job.reference, job.candidate
    try:
        reference = load_side(ref, ref.path, ref.source, ref.symbol, ctx.target, "ref", job.options)
    except RefusedError as exc:
        if isinstance(ref.spec, CudaSpec):
            _compile_check_candidate(cand.path, cand.source)  # its compile errors still help without a GPU
        raise Rejected(CheckName.NO_GPU, str(exc)) from None
    except (LoadError, CompileError) as exc:
        check = CheckName.PROBLEM
        raise Rejected(check, f"the reference did not load: {exc}", line=getattr(exc, "line", None)) from None
    # The reference's functional form: with reference=NAME, that implementation is the oracle.
    if isinstance(ref.spec, FunctionSpec) and ref.spec.reference:
        oracle_obj = getattr(reference.module, ref.spec.reference, None)
        if not callable(oracle_obj):
            raise Rejected(CheckName.PROBLEM, f"reference={ref.spec.reference} is not defined in {ref.path}")
        reference = replace(reference, target=oracle_obj)
    return reference


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


def exact_enough(
    ctx: Context,
    reference: Problem,
    seed: int,
    outputs: tuple[Any, Any],
    exact: Any | None,
    tolerance: tuple[float | None, float | None],
    what: str,
) -> bool:
    """Whether a candidate that missed the tolerance against the reference is as close to the float64
    answer as the reference itself (compare.as_exact_as_reference): then the reference computes at
    reduced precision and both are right. Noted on the verdict when so."""
    (out_c, out_r), (atol, rtol) = outputs, tolerance
    if exact is None:
        exact, _ = float64_answer(reference, seed, out_r, ctx.target)
    if exact is None or as_exact_as_reference(out_c, out_r, exact, atol, rtol) is not None:
        return False
    note = (
        "outputs differ from the reference's by more than the tolerance where the reference computes at "
        "reduced precision, but are as close to the float64 answer as the reference's (first in "
        f"{what})"
    )
    if not any(n.startswith(note.split(" (first in")[0]) for n in ctx.notes):
        ctx.notes.append(note)
    return True


class _Trials:
    """The candidate's outputs on fresh inputs, fetched from its worker and compared here."""

    def __init__(
        self,
        job: VerifyJob,
        ctx: Context,
        reference: Problem,
        line: CandidateLine,
        ref_out: Any,
        slack: float,
    ) -> None:
        self.job, self.ctx, self.reference, self.line, self.slack = job, ctx, reference, line, slack
        self.atol, self.rtol = tolerances(job.reference)
        self.nbytes = nbytes_of(ref_out)
        # What the judge will read back: the reference's output size with room for wrong shapes.
        self.limit = 4 * sum(self.nbytes) + (1 << 20)
        self.float64_skipped = ""

    def _outputs(self, seed: int, name: str, what: str, refill: bool) -> Any:
        out_c, reply = self.line.call(seed, name, self.nbytes, self.limit, refill, what)
        drawn = input_checksums(self.reference.draw(seed), self.reference.output_args)
        if tuple(reply.inputs_before) != drawn and not refill:
            raise Rejected(
                CheckName.PROBLEM,
                f"{what}: the candidate's worker drew other inputs from seed {seed} than the judge did: the "
                f"input factory is not deterministic under torch.manual_seed (does it use another random "
                f"source, or the clock?)",
            )
        if tuple(reply.inputs_after) != tuple(reply.inputs_before):
            raise Rejected(
                CheckName.INPUT_MUTATION,
                f"{what}: the candidate changed its inputs; inputs must be unchanged after the call (a "
                f"mutated input corrupts whatever runs on it next)",
            )
        return out_c

    def trials(self, seeds: list[int]) -> float | None:
        """Returns the reference's float64 error, or None where it cannot run in float64."""
        ctx, reference, target = self.ctx, self.reference, self.ctx.target
        ref_err: float | None = None
        previous: list[Any] = []
        for trial, seed in enumerate(seeds):
            what = f"trial {trial + 1}"
            out_c = self._outputs(seed, f"trial-{trial + 1}.out", what, refill=False)
            out_r = run_guarded(reference, reference.draw(seed), target, "reference")
            with ctx.stages(Phase.PRECISION):
                ref64 = self._float64(seed, out_r) if trial == 0 else None
                if ref64 is not None:
                    ref_err = max(error_norms(out_r, ref64), default=0.0)
                    self._note_noise_level(out_r, ref_err)
            mismatch = self._mismatch(seed, out_c, out_r, ref64, what)
            if (
                mismatch is not None
                and ref64 is not None
                and ref_err is not None
                and mismatch.check in NEAR_CHECKS
            ):
                # As close to the exact answer as the reference computed in bfloat16 gets: a precision
                # problem (the candidate computes in lower precision), not a wrong result.
                with ctx.stages(Phase.PRECISION):
                    low = lower_precision_error(reference, reference.draw(seed), ref64)
                near = LOWER_PRECISION_FACTOR * low if low is not None else NEAR_FALLBACK
                _check_precision(ctx, out_c, ref64, ref_err, near=near)
            if mismatch is not None:
                if any(compare(out_c, p, 0.0, 0.0) is None for p in previous):
                    raise Rejected(
                        CheckName.REPLAY,
                        f"trial {trial + 1}: fresh inputs gave the same outputs as an earlier trial (a "
                        f"replayed result), while the reference's changed: {mismatch.message}",
                        trial=trial + 1,
                        details=mismatch.details,
                    )
                raise _reject_mismatch(mismatch, trial)
            if trial == 0:
                if ref64 is None:
                    ctx.notes.append(f"precision check skipped: {self.float64_skipped}")
                elif ref_err is not None:
                    with ctx.stages(Phase.PRECISION):
                        _check_precision(ctx, out_c, ref64, ref_err)
            previous.append(out_c)
        return ref_err

    def _mismatch(self, seed: int, out_c: Any, out_r: Any, exact: Any | None, what: str) -> Mismatch | None:
        """The candidate's outputs against the reference's; a near miss where the reference computes at
        reduced precision is no mismatch when the candidate is as close to float64 (exact_enough)."""
        ctx = self.ctx
        mismatch = compare(out_c, out_r, self.atol, self.rtol, self.slack, check_norm=ctx.checks_norm)
        if mismatch is None or mismatch.check not in NEAR_CHECKS:
            return mismatch
        tolerance = (self.atol, self.rtol)
        if exact_enough(ctx, self.reference, seed, (out_c, out_r), exact, tolerance, what):
            return None
        return mismatch

    def _float64(self, seed: int, out_r: Any) -> Any | None:
        out, why = float64_answer(self.reference, seed, out_r, self.ctx.target)
        if out is None:
            self.float64_skipped = why
        return out

    def _note_noise_level(self, out_r: Any, ref_err: float) -> None:
        """Where the reference itself misses its norm bound against the exact (float64) answer, its
        output is rounding noise (a quantity whose exact value is about zero): comparing a candidate's
        noise with the reference's by their relative norm would reject equivalent code. The elementwise
        tolerance still holds, and the norm is checked against float64 (the precision check) instead."""
        floats = [t for t in tensors_in(out_r) if t.is_floating_point()]
        bound = tolerance_for(floats[0].dtype, self.atol, self.rtol).rtol if floats else math.inf
        if ref_err > bound:
            self.ctx.flag(Flag.NOISE_LEVEL)
            self.ctx.notes.append(
                f"the reference's output is rounding noise: its own relative error against float64 is "
                f"{ref_err:.3g}, beyond rtol={bound:g} (the exact answer is about zero); candidates are held "
                f"to the elementwise tolerance and to the reference's own distance from float64, not to "
                f"the reference's noise, so any output within atol of zero passes"
            )

    def refill(self, seed: int) -> None:
        """Replay keyed on addresses, ids or first call: the last trial's buffers, refilled in place."""
        out_c = self._outputs(seed, "refill.out", "the in-place refill", refill=True)
        out_r = run_guarded(self.reference, self.reference.draw(seed), self.ctx.target, "reference")
        mismatch = self._mismatch(seed, out_c, out_r, None, "the in-place refill")
        if mismatch is not None:
            raise Rejected(
                CheckName.REPLAY,
                f"the same input buffers refilled in place with new values gave a wrong result (a replay "
                f"keyed on the buffers' address, id or first call): {mismatch.message}",
                details=mismatch.details,
                trial=self.job.trials,
            )


NEAR_CHECKS = (CheckName.VALUE, CheckName.ERROR_NORM)  # mismatches that may be a precision problem
# A candidate within this many times the bfloat16 reference's error from float64 computes the right thing
# in lower precision; beyond it, the result is wrong (a candidate 1% off is wrong: bfloat16 is ~0.4%).
LOWER_PRECISION_FACTOR = 2.0
NEAR_FALLBACK = 2.0 * 2.0**-8  # where the reference cannot run in bfloat16: twice bfloat16's unit roundoff


def _check_precision(ctx: Context, out_c: Any, ref64: Any, ref_err: float, near: float | None = None) -> None:
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
