"""The engine's part in a verify job: relay the judge's questions to the candidate worker, and keep the
candidate's process frozen between them.

The judge worker asks (core.protocol `Ask`); the relay thaws the candidate's process group, sends the
question as a `candidate` request, freezes the group again once the response is in (or the worker is
gone), and writes the judge an `Answer`. A candidate worker that dies, hangs or answers out of turn is
an answer with `ok=False` naming it: the judge turns that into a rejection, never the engine into a
crash; so is one whose process ran while held stopped (engine.freeze, ErrorCode.ESCAPED). The
candidate's outputs travel as files in its exchange folder, which the judge parses as data.
"""

from __future__ import annotations

import time

from kernelwright.core.jobs import JobType
from kernelwright.core.protocol import (
    PROTOCOL_VERSION,
    Answer,
    Ask,
    CapturedOutput,
    ErrorCode,
    JobErrorInfo,
)
from kernelwright.engine.job_error import JobError
from kernelwright.engine.process import KillReason, WorkerProcess

# The judge needs time after its last answer to decide and reply: candidate questions end this long
# before the job's own deadline.
JUDGE_MARGIN_S = 15.0


class CandidateRelay:
    def __init__(self, candidate: WorkerProcess) -> None:
        self.candidate = candidate
        self.output = CapturedOutput()  # the candidate's last captured output that holds anything

    async def answer(self, ask: Ask, deadline: float) -> Answer:
        if ask.type != JobType.CANDIDATE:
            return self._refused(ask, f"a judge asks only `candidate` questions, not {ask.type!r}")
        self.candidate.thaw()
        if self.candidate.freeze_escape is not None:
            await self.candidate.kill(KillReason.RETIRED)
            error = JobErrorInfo(ErrorCode.ESCAPED, self.candidate.freeze_escape)
            return Answer(v=PROTOCOL_VERSION, seq=ask.seq, ok=False, error=error, output=self.output)
        if not self.candidate.alive:
            return self._refused(ask, "the candidate's worker is gone (it died at an earlier question)")
        remaining = max(1.0, deadline - time.monotonic() - JUDGE_MARGIN_S)
        started = time.monotonic()
        try:
            response = await self.candidate.call(JobType.CANDIDATE, ask.payload, remaining)
        except JobError as err:
            self.output = err.output
            return Answer(
                v=PROTOCOL_VERSION,
                seq=ask.seq,
                ok=False,
                error=err.info,
                output=err.output,
                seconds=time.monotonic() - started,
            )
        finally:
            self.candidate.freeze()
        seconds = time.monotonic() - started
        if response.output.total_bytes or not self.output.total_bytes:
            # What it printed last: the judge's last empty question (confirm_held) prints nothing.
            self.output = response.output
        if not response.ok:
            error = response.error or JobErrorInfo(ErrorCode.PROTOCOL, "a failed response without an error")
            return Answer(v=PROTOCOL_VERSION, seq=ask.seq, ok=False, error=error, output=response.output)
        return Answer(
            v=PROTOCOL_VERSION,
            seq=ask.seq,
            ok=True,
            result=response.result,
            output=response.output,
            seconds=seconds,
        )

    @staticmethod
    def _refused(ask: Ask, why: str) -> Answer:
        return Answer(
            v=PROTOCOL_VERSION, seq=ask.seq, ok=False, error=JobErrorInfo(ErrorCode.BAD_REQUEST, why)
        )
