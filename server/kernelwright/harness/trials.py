"""The checked trials of a verification: each on fresh inputs from a secret seed, the candidate's outputs
against the reference's (and, on the first, against float64), a replay of an earlier result caught, the
first trial's inputs run again (the candidate's own determinism), and the last call's input buffers
refilled in place. `run_guarded` calls a side and turns a GPU fault or an exception into a rejection that
names who raised it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch

from kernelwright.core.jobs import VerifyJob
from kernelwright.core.measure import CheckName, Flag, JobPhase
from kernelwright.harness import clock
from kernelwright.harness.candidate_line import CandidateLine
from kernelwright.harness.compare import (
    Mismatch,
    compare,
    error_norms,
    problem_size,
    tensors_in,
    tolerance_for,
    tolerances,
)
from kernelwright.harness.device import Target, machine_lacks
from kernelwright.harness.exchange import input_checksums, read_limit
from kernelwright.harness.poison import nbytes_of
from kernelwright.harness.precision import (
    LOWER_PRECISION_FACTOR,
    NEAR_CHECKS,
    NEAR_FALLBACK,
    check_precision,
    float64_answer,
    judged_mismatch,
    lower_precision_error,
)
from kernelwright.harness.problem import (
    Problem,
)
from kernelwright.harness.source import error_place
from kernelwright.harness.verify_context import Context, Rejected


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


def _identical_to_any(outputs: Any, earlier: list[Any]) -> bool:
    """Whether `outputs` equal one of `earlier` bit for bit (a replayed result, where inputs differed)."""
    return any(compare(outputs, e, 0.0, 0.0) is None for e in earlier)


# A candidate's own failure on other shapes (it raised, ran out of memory, returned another shape or dtype)
# is named as one at other shapes: it passed at the timed ones.
SHAPE_FAILURES = frozenset(
    {CheckName.RUN, CheckName.MEMORY, CheckName.SHAPE, CheckName.DTYPE, CheckName.STRUCTURE, CheckName.DEVICE}
)
SHAPE_TRIALS = 2


def reject_mismatch(m: Mismatch, trial: int, prefix: str = "") -> Rejected:
    return Rejected(
        m.check,
        f"{prefix}trial {trial + 1}: {m.message}",
        details={**m.details, "trial": trial + 1},
        trial=trial + 1,
    )


class Trials:
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
        self.limit = read_limit(self.nbytes)  # what the judge will read back
        self.float64_skipped = ""

    def _outputs(
        self,
        seed: int,
        name: str,
        what: str,
        refill: bool,
        shaped: Problem | None = None,
        nbytes: list[int] | None = None,
    ) -> Any:
        """The candidate's outputs on `seed`'s inputs (`shaped`: a problem drawing from the `shapes=`
        factory, whose outputs are `nbytes`), its draws and its inputs checked."""
        sizes = self.nbytes if nbytes is None else nbytes
        limit = self.limit if nbytes is None else read_limit(sizes)
        out_c, reply = self.line.call(seed, name, sizes, limit, refill, what, shapes=shaped is not None)
        if not refill:
            self._same_draw(seed, tuple(reply.inputs_before), what, shaped or self.reference)
        if tuple(reply.inputs_after) != tuple(reply.inputs_before):
            raise Rejected(
                CheckName.INPUT_MUTATION,
                f"{what}: the candidate changed its inputs; inputs must be unchanged after the call (a "
                f"mutated input corrupts whatever runs on it next)",
            )
        return out_c

    def _same_draw(self, seed: int, reported: tuple[str, ...], what: str, drawer: Problem) -> None:
        """The candidate's process says which inputs it drew from `seed`; where they are not the judge's,
        whose fault it is is decided here, from the judge's own draws: a factory that draws differently
        in the judge's process too is the person's (PROBLEM), else the candidate's process drew, or said
        it drew, something else (samples/adversarial/cheat_inputs_reported_other.py,
        cheat_inputs_reseeded.py): never the person's problem on the candidate's word."""
        skip = self.reference.output_args
        drawn = input_checksums(drawer.draw(seed), skip)
        if reported == drawn:
            return
        if input_checksums(drawer.draw(seed), skip) != drawn:
            raise Rejected(
                CheckName.PROBLEM,
                f"{what}: the input factory drew other inputs from seed {seed} on a second draw in the "
                f"judge's own process: it is not deterministic under torch.manual_seed (does it use another "
                f"random source, or the clock?)",
            )
        raise Rejected(
            CheckName.TAMPER,
            f"{what}: the candidate's process reports other inputs from seed {seed} than the judge draws "
            f"(the judge draws them alike every time): the candidate changed what its process draws (the "
            f"random generator, the default dtype or the input factory) or what it reports",
        )

    def trials(self, seeds: list[int]) -> float | None:
        """Returns the reference's float64 error, or None where it cannot run in float64."""
        ctx, reference, target = self.ctx, self.reference, self.ctx.target
        ref_err: float | None = None
        previous: list[Any] = []
        first_ref: Any = None
        for trial, seed in enumerate(seeds):
            what = f"trial {trial + 1}"
            out_c = self._outputs(seed, f"trial-{trial + 1}.out", what, refill=False)
            out_r = run_guarded(reference, reference.draw(seed), target, "reference")
            with ctx.phases(JobPhase.PRECISION):
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
                with ctx.phases(JobPhase.PRECISION):
                    low = lower_precision_error(reference, reference.draw(seed), ref64)
                near = LOWER_PRECISION_FACTOR * low if low is not None else NEAR_FALLBACK
                check_precision(ctx, out_c, ref64, ref_err, near=near)
            if mismatch is not None:
                if _identical_to_any(out_c, previous):
                    raise Rejected(
                        CheckName.REPLAY,
                        f"trial {trial + 1}: fresh inputs gave the same outputs as an earlier trial (a "
                        f"replayed result), while the reference's changed: {mismatch.message}",
                        trial=trial + 1,
                        details=mismatch.details,
                    )
                raise reject_mismatch(mismatch, trial)
            if trial == 0:
                if ref64 is None:
                    ctx.notes.append(f"precision check skipped: {self.float64_skipped}")
                elif ref_err is not None:
                    with ctx.phases(JobPhase.PRECISION):
                        check_precision(ctx, out_c, ref64, ref_err)
            previous.append(out_c)
            if trial == 0:
                first_ref = out_r
        self._repeat(seeds[0], previous, first_ref)
        return ref_err

    def _repeat(self, seed: int, previous: list[Any], out_r: Any) -> None:
        """The first trial's seed again: the candidate on the same inputs a second time. Two runs that
        differ name the candidate non-deterministic (atomics, a reduction split across blocks: legitimate
        where both runs are within tolerance, and the person should know); a second run that no longer
        matches the reference (a race, or state an earlier call left behind) rejects it. A candidate can
        always look deterministic by keeping its answers: this names honest non-determinism, it cannot
        prove its absence."""
        what = "the repeat of trial 1 on the same inputs"
        again = self._outputs(seed, "repeat.out", what, refill=False)
        first = previous[0]
        if compare(again, first, 0.0, 0.0) is None:
            return
        mismatch = self._mismatch(seed, again, out_r, None, what)
        if mismatch is not None:
            replayed = _identical_to_any(again, previous[1:])
            why = (
                "the candidate returned another trial's outputs (a result replayed by address or call, not "
                "computed)"
                if replayed
                else "the candidate's first run passed, its second on the very same inputs does not (a race, "
                "or state an earlier call left behind)"
            )
            raise Rejected(
                CheckName.REPLAY if replayed else mismatch.check,
                f"{what}: {why}: {mismatch.message}",
                details={**mismatch.details, "trial": 1},
                trial=1,
            )
        spread = max(error_norms(again, first), default=0.0)
        self.ctx.flag(Flag.CANDIDATE_NON_DETERMINISTIC)
        own = "also differ" if Flag.NON_DETERMINISTIC in self.ctx.flags else "are identical"
        self.ctx.notes.append(
            f"the candidate is non-deterministic: two runs on the same inputs differ by relative error norm "
            f"{spread:.3g}, both within tolerance (the reference's own two runs {own})"
        )

    def _mismatch(
        self, seed: int, out_c: Any, out_r: Any, exact: Any | None, what: str, shaped: Problem | None = None
    ) -> Mismatch | None:
        """`shaped`: the problem drawing from the `shapes=` factory, for a float64 answer on its inputs."""
        tolerance = (self.atol, self.rtol, self.slack)
        problem = shaped or self.reference
        return judged_mismatch(self.ctx, problem, seed, (out_c, out_r), exact, tolerance, what)

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

    def other_shapes(self, seeds: list[int]) -> str:
        """Trials on inputs from the directive's `shapes=` factory, at other shapes than those timed: a
        candidate specialised to the shapes of `inputs=` (a hard-coded view or loop bound, a table built
        for one size) raises or is wrong there (docs/PITFALLS.md 12). Checked, never timed. Returns the
        shapes tried, for the verdict's note."""
        draw, factory = self.reference.draw_shapes, self.reference.shapes_from
        if draw is None:
            return ""
        shaped = replace(self.reference, draw=draw)
        hint = f"; is it written for the shapes of `{self.reference.inputs_from}` only?"
        tried: list[str] = []
        for n, seed in enumerate(seeds):
            args = draw(seed)
            shape = problem_size(args)
            tried.append(shape)
            what = f"other shapes {n + 1} (inputs from `{factory}` on seed {seed}: {shape})"
            out_r = run_guarded(self.reference, args, self.ctx.target, "reference")
            try:
                out_c = self._outputs(seed, f"shapes-{n + 1}.out", what, False, shaped, nbytes_of(out_r))
            except Rejected as exc:
                if exc.check in SHAPE_FAILURES:
                    raise Rejected(CheckName.OTHER_SHAPES, f"{what}: {exc}{hint}", **exc.kw) from None
                raise
            mismatch = self._mismatch(seed, out_c, out_r, None, what, shaped)
            if mismatch is not None:
                raise Rejected(
                    CheckName.OTHER_SHAPES,
                    f"{what}: the output is wrong at these shapes, though the trials at the timed ones "
                    f"passed ({mismatch.check}: {mismatch.message}){hint}",
                    details=mismatch.details,
                )
        return " and ".join(dict.fromkeys(tried))

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
