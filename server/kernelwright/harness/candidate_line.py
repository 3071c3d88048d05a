"""The judge's side of its conversation with the candidate worker: ask, then believe nothing unchecked.

Every answer is parsed strictly into the reply type the judge asked for; a reply that does not parse, or
whose numbers are impossible (negative or non-finite times, the wrong number of calls), is a rejection
with check `reply`, "the candidate's process sent a reply the judge did not ask for". A worker that died,
hung or ran out of memory is a rejection naming that. A failure the candidate reports about itself is
believed, since it can only reject.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from typing import Any, TypeVar

from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue, from_untrusted_json, to_json
from kernelwright.core.judging import (
    FAILURE_CHECKS,
    CallReply,
    CandidateCall,
    CandidateFailure,
    CandidateLoad,
    CandidateOp,
    CandidateSend,
    CandidateTiming,
    LoadReply,
    TimingReply,
)
from kernelwright.core.measure import CheckName, Flag
from kernelwright.core.protocol import Answer, ErrorCode, ProtocolError
from kernelwright.harness import channel, clock
from kernelwright.harness.exchange import ForgedReply, read_outputs
from kernelwright.harness.verify_context import Context, Rejected

R = TypeVar("R")

# An empty question's candidate part, on the engine's clock: thaw, a line each way, an empty warm-up,
# freeze. An honest worker took 1.6 ms of it on the 2-core VM with the judge's legs at 0.9 ms
# (2026-12-05); a longer answer is the candidate's own time.
ROUND_TRIP_CANDIDATE_CAP_S = 0.002

FORGED = "the candidate's process sent a reply the judge did not ask for"

# Worker-level failures of the candidate's process, as the engine's answer names them.
_DEATHS = {
    ErrorCode.OOM: CheckName.MEMORY,
    ErrorCode.PROTOCOL: CheckName.REPLY,
    ErrorCode.ESCAPED: CheckName.TAMPER,
}


class CandidateLine:
    def __init__(self, ctx: Context, exchange_dir: str) -> None:
        self.ctx = ctx
        self.exchange_dir = exchange_dir
        self._line = channel.current()
        # The engine's clock of the last answer's candidate part (thawed, asked, answered, frozen again).
        self.last_candidate_s = 0.0

    def ask(self, op: CandidateOp, args: Any, reply_type: type[R], what: str) -> tuple[R, float]:
        """The parsed reply to one question and the seconds it took on the judge's clock."""
        payload: JsonValue = {"op": op.value, "args": to_json(args)}
        started = clock.perf_counter()
        try:
            answer = self._line.ask(JobType.CANDIDATE, payload)
        except ProtocolError as exc:
            raise Rejected(CheckName.REPLY, f"{FORGED} during {what}: {exc}") from None
        seconds = clock.perf_counter() - started
        self.last_candidate_s = min(max(answer.seconds, 0.0), seconds)
        if not answer.ok:
            raise self._death(answer, what)
        try:
            reply = from_untrusted_json(reply_type, answer.result)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise Rejected(
                CheckName.REPLY, f"{FORGED} during {what}: not a {reply_type.__name__} ({exc})"
            ) from None
        if not isinstance(reply, reply_type):
            raise Rejected(CheckName.REPLY, f"{FORGED} during {what}: not a {reply_type.__name__}")
        return reply, seconds

    def _death(self, answer: Answer, what: str) -> Rejected:
        error = answer.error
        code = error.code if error is not None else ErrorCode.PROTOCOL
        message = error.message if error is not None else "no answer"
        check = _DEATHS.get(code, CheckName.RUN)
        if code is ErrorCode.PROTOCOL:
            text = f"{FORGED} during {what}: {message}"
        elif code is ErrorCode.ESCAPED:
            text = f"before {what}, {message}"
        else:
            text = f"the candidate took down its worker during {what} ({code}: {message})"
        tail = answer.output.last_lines(40) or (error.traceback if error is not None else "") or None
        return Rejected(check, text, traceback_tail=tail, worker_error=code)

    def failed(self, failure: CandidateFailure | None, tampered: tuple[str, ...]) -> None:
        """Raise the rejection a reply's own report of failure (or of tampering) means."""
        if tampered:
            self.ctx.flag(Flag.TAMPER)
            raise Rejected(
                CheckName.TAMPER,
                f"tamper: the candidate replaced {', '.join(tampered)} in its process (its worker's live "
                f"check saw it); the verdict and the times are the judge's, and patching is rejected",
            )
        if failure is None:
            return
        if failure.check not in FAILURE_CHECKS:
            raise Rejected(CheckName.REPLY, f"{FORGED}: a failure of unknown kind {failure.check!r}")
        line = failure.line if failure.line >= 0 else None
        raise Rejected(
            CheckName(failure.check), failure.message, traceback_tail=failure.tail or None, line=line
        )

    # -- the questions ------------------------------------------------------------------------------

    def load(self, request: CandidateLoad) -> LoadReply:
        reply, _ = self.ask(CandidateOp.LOAD, request, LoadReply, "its load")
        self.failed(reply.failure, reply.tampered)
        return reply

    def call(
        self,
        seed: int,
        name: str,
        poison_nbytes: list[int],
        limit_bytes: int,
        refill: bool,
        what: str,
        shapes: bool = False,
    ) -> tuple[Any, CallReply]:
        """The candidate's outputs for one call, as the judge's own tensors, and its reply. `shapes`: on
        inputs from the directive's `shapes=` factory."""
        op = CandidateOp.REFILL if refill else CandidateOp.RUN
        request = CandidateCall(
            seed=seed, output_file=name, poison_nbytes=tuple(poison_nbytes), shapes=shapes
        )
        reply, _ = self.ask(op, request, CallReply, what)
        return self._outputs(reply, name, limit_bytes, what), reply

    def send(self, calls: Sequence[int], name: str, limit_bytes: int, what: str) -> list[Any]:
        """The outputs the candidate kept from its last timing block for `calls` (`limit_bytes` each), in
        their order: one question and one file for all of them."""
        asked = CandidateSend(tuple(calls), name)
        reply, _ = self.ask(CandidateOp.SEND, asked, CallReply, what)
        sent = self._outputs(reply, name, limit_bytes * len(calls), what, calls=len(calls))
        if not isinstance(sent, list) or len(sent) != len(calls):
            count = len(sent) if isinstance(sent, list) else type(sent).__name__
            raise Rejected(
                CheckName.REPLY, f"{FORGED} during {what}: {count} outputs for the {len(calls)} calls asked"
            )
        return sent

    def _outputs(
        self, reply: CallReply, name: str, limit_bytes: int, what: str, calls: int | None = None
    ) -> Any:
        self.failed(reply.failure, reply.tampered)
        if reply.output_file != name:
            raise Rejected(CheckName.REPLY, f"{FORGED} during {what}: outputs in {reply.output_file!r}")
        path = os.path.join(self.exchange_dir, name)
        try:
            outputs, lazy = read_outputs(path, self.ctx.target.device, limit_bytes, calls)
        except ForgedReply as exc:
            raise Rejected(CheckName.REPLY, f"{FORGED} during {what}: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)
        if lazy:
            raise Rejected(
                CheckName.LAZY_OUTPUT,
                f"{what}: outputs must be plain torch.Tensor (a subclass can compute on read): {lazy[0]}",
            )
        return outputs

    def warm(self, seeds: list[int]) -> tuple[float, float]:
        """Untimed calls: the judge's seconds for them, and the host cover the worker's warm-up asked for
        (0 on the CPU)."""
        reply, seconds = self.ask(CandidateOp.WARM, CandidateTiming(tuple(seeds)), TimingReply, "warm-up")
        self.failed(reply.failure, reply.tampered)
        if not math.isfinite(reply.cover_us) or reply.cover_us < 0.0:
            raise Rejected(CheckName.REPLY, f"{FORGED} during warm-up: a host cover of {reply.cover_us} µs")
        return seconds, reply.cover_us

    def round_trip(self) -> tuple[float, float]:
        """What the relay's path costs a question beyond the candidate's own work, for the timing cross-check
        to take off a block's wall time: (seconds to take off, seconds the empty question took in all).

        The question is an empty warm-up, and the candidate's process answers it: it can take as long as it
        likes, which would buy it that much unseen time in every block (samples/adversarial/
        cheat_round_trip_padded.py). So only the judge-to-engine legs (the judge's clock less the engine's
        clock of the candidate's part, no candidate code in them) count in full; the candidate's part
        counts up to the larger of ROUND_TRIP_CANDIDATE_CAP_S and twice those legs: waking a frozen worker
        and an empty answer cost about what the legs do. What a candidate can buy by stalling is then at
        most that cap a block, within the cross-check's floor (harness.interleave_stats.EXCESS_FLOOR_S: 2 ms
        on a GPU, 5 ms on a CPU)."""
        total, _ = self.warm([])
        candidate = self.last_candidate_s
        legs = total - candidate
        return legs + min(candidate, max(ROUND_TRIP_CANDIDATE_CAP_S, 2 * legs)), total

    def confirm_held(self) -> None:
        """One last empty question before a passing verdict. The engine looks at the candidate's
        processes as it thaws them for it, and that look covers the whole time since the previous
        question: a process that ran while held stopped (engine.freeze) rejects the candidate here as
        `tamper`, even where it ran only while the judge timed the reference after the last question."""
        self.warm([])

    def time_block(self, seeds: list[int], what: str, cover_us: float = 0.0) -> tuple[TimingReply, float]:
        request = CandidateTiming(tuple(seeds), cover_us)
        reply, seconds = self.ask(CandidateOp.TIME, request, TimingReply, what)
        self.failed(reply.failure, reply.tampered)
        calls = len(seeds)
        plausible = (
            len(reply.checksums) == calls
            and len(reply.samples_us) == calls
            and reply.dropped >= 0
            and all(math.isfinite(s) and s >= 0.0 for s in reply.samples_us)
        )
        if not plausible:
            raise Rejected(
                CheckName.REPLY,
                f"{FORGED} during {what}: {len(reply.samples_us)} times and {len(reply.checksums)} "
                f"checksums for {calls} calls",
            )
        return reply, seconds
