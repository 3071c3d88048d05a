"""What a candidate worker does when its judge asks (core.judging): load the candidate, call it on inputs
drawn from the judge's seeds, write the outputs to the exchange folder, time blocks of calls.

Everything here runs in the process the candidate's code runs in, so the candidate can change any of it:
nothing this module answers is a verdict, and the judge checks every answer against its own reference,
its own clock and the bytes it reads back. The checks made here (the live tamper check, the lazy-output
class name) are confessions a naive candidate makes; their absence proves nothing.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from dataclasses import dataclass
from typing import Any

import torch

from kernelwright.core.jobs import VerifyJob, candidate_symbol
from kernelwright.core.jsonable import JsonValue, from_json, to_json
from kernelwright.core.judging import (
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
from kernelwright.core.measure import CheckName
from kernelwright.core.site import CudaSpec
from kernelwright.harness import clock
from kernelwright.harness.compare import tensors_in
from kernelwright.harness.cuda_build import BuildEnvironmentError, CompileError
from kernelwright.harness.device import Target, resolve
from kernelwright.harness.exchange import input_checksums, write_outputs
from kernelwright.harness.faults import is_out_of_memory
from kernelwright.harness.poison import poison
from kernelwright.harness.problem import Problem, RefusedError
from kernelwright.harness.source import LoadError, error_place, load_module
from kernelwright.harness.timing import BlockTimer


@dataclass
class _Session:
    job: VerifyJob
    exchange_dir: str
    target: Target
    candidate: Problem
    last_args: tuple[Any, ...] = ()
    timer: BlockTimer | None = None


_session: _Session | None = None


class BadQuestion(Exception):
    """The judge asked something this worker cannot answer (a bug on the engine's side)."""


def handle(payload: JsonValue) -> JsonValue:
    if not isinstance(payload, dict) or "op" not in payload:
        raise BadQuestion("a candidate job needs {op, args}")
    try:
        op = CandidateOp(str(payload["op"]))
    except ValueError:
        raise BadQuestion(f"unknown candidate op {payload['op']!r}") from None
    args = payload.get("args")
    if op is CandidateOp.LOAD:
        return to_json(_load(from_json(CandidateLoad, args)))
    session = _need_session()
    if op in (CandidateOp.RUN, CandidateOp.REFILL):
        return to_json(_call(session, from_json(CandidateCall, args), refill=op is CandidateOp.REFILL))
    if op is CandidateOp.SEND:
        return to_json(_send(session, from_json(CandidateSend, args)))
    return to_json(_timing(session, from_json(CandidateTiming, args), timed=op is CandidateOp.TIME))


def _need_session() -> _Session:
    if _session is None:
        raise BadQuestion("the candidate is not loaded yet (ask load first)")
    return _session


def _load(request: CandidateLoad) -> LoadReply:
    global _session
    from kernelwright.harness.verify import load_side

    job = request.verify
    ref, cand = job.reference, job.candidate
    symbol = candidate_symbol(ref, cand)
    target = resolve(job.device)
    try:
        # The reference's file supplies the input factories; its Model is never built here.
        inputs_module = (
            None if isinstance(ref.spec, CudaSpec) else load_module(ref.path, ref.source, "inputs")
        )
        candidate = load_side(
            ref,
            cand.path,
            cand.source,
            symbol,
            target,
            "cand",
            job.options,
            spec_override=cand.spec if isinstance(cand.spec, CudaSpec) else None,
            inputs_module=inputs_module,
        )
    except LoadError as exc:
        if isinstance(exc.raised, BuildEnvironmentError):
            return LoadReply(symbol, failure=_machine_failure(exc.raised, exc.line, exc.tail))
        return LoadReply(
            symbol,
            failure=CandidateFailure(
                CheckName.LOAD, f"the candidate did not load: {exc}", _line(exc.line), exc.tail or ""
            ),
        )
    except CompileError as exc:
        return LoadReply(
            symbol,
            failure=CandidateFailure(
                CheckName.COMPILE, f"the candidate did not compile: {exc}", _line(exc.line), exc.log[-4000:]
            ),
        )
    except RefusedError as exc:
        return LoadReply(symbol, failure=CandidateFailure(CheckName.NO_GPU, str(exc)))
    _session = _Session(job, request.exchange_dir, target, candidate)
    return LoadReply(symbol, uses_triton=candidate.uses_triton, tampered=tuple(clock.tampered()))


def _line(line: int | None) -> int:
    return -1 if line is None else line


def _machine_failure(exc: BuildEnvironmentError, line: int | None, tail: str | None) -> CandidateFailure:
    """The machine's failure, not the candidate's: it was not judged, and the message says what to fix."""
    message = f"the candidate could not be built on this machine, so it was not judged: {exc}"
    return CandidateFailure(CheckName.MACHINE, message, _line(line), tail or "")


def _run_failure(exc: BaseException, session: _Session) -> CandidateFailure:
    place = error_place(exc, session.candidate.path)
    if isinstance(exc, BuildEnvironmentError):
        return _machine_failure(exc, place.line, place.tail)
    where = f" at line {place.line + 1}" if place.line is not None else ""
    oom = is_out_of_memory(exc)
    return CandidateFailure(
        CheckName.MEMORY if oom else CheckName.RUN,
        f"the candidate raised {type(exc).__name__}{where}: {exc}",
        _line(place.line),
        place.tail or "".join(traceback.format_exception(exc))[-4000:],
    )


def _sync(target: Target) -> None:
    if target.is_cuda:
        clock.cuda_synchronize(target.device)


def _call(session: _Session, request: CandidateCall, refill: bool) -> CallReply:
    cand = session.candidate
    if refill:
        args = session.last_args
        if not args:
            raise BadQuestion("refill before any run")
        _refill(cand, args, cand.draw(request.seed))
    elif request.shapes:
        if cand.draw_shapes is None:
            raise BadQuestion("a run on other shapes, but the problem names no shapes= factory")
        args = cand.draw_shapes(request.seed)
    else:
        args = cand.draw(request.seed)
    before = input_checksums(args, cand.output_args)
    poison(session.target.device, request.poison_nbytes)
    try:
        with torch.inference_mode():
            out = cand(args)
        _sync(session.target)
    except Exception as exc:
        return CallReply("", before, before, tuple(clock.tampered()), _run_failure(exc, session))
    after = input_checksums(args, cand.output_args)
    session.last_args = args
    name = os.path.basename(request.output_file)
    failed = _write(session, name, out)
    if failed is not None:
        return CallReply("", before, after, tuple(clock.tampered()), failed)
    return CallReply(name, before, after, tuple(clock.tampered()))


def _write(session: _Session, name: str, outputs: Any) -> CandidateFailure | None:
    """Write outputs for the judge into the exchange folder; why they could not be, else None."""
    path = os.path.join(session.exchange_dir, name)
    try:
        write_outputs(path, outputs)
    except TypeError as exc:
        return CandidateFailure(CheckName.DTYPE, str(exc))
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.remove(path)
        size = ""
        with contextlib.suppress(OSError):
            fs = os.statvfs(session.exchange_dir)
            size = f", which holds {fs.f_blocks * fs.f_frsize} bytes in all"
        return CandidateFailure(
            CheckName.MEMORY,
            f"its outputs could not be written to its exchange folder{size} ({exc.strerror}); a problem "
            f"whose outputs are this large needs a larger exchange_cap_bytes (engine.config)",
        )
    return None


def _refill(problem: Problem, args: tuple[Any, ...], fresh: tuple[Any, ...]) -> None:
    """Copy fresh values into the same tensors (same data_ptr and id), in place."""
    for i, (old, new) in enumerate(zip(args, fresh, strict=True)):
        if i in problem.output_args:
            if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor):
                old.copy_(new)  # outputs get their initial state (NaN for empty(), zeros for zeros())
            continue
        for a, b in zip(tensors_in(old), tensors_in(new), strict=True):
            a.copy_(b)


def _timing(session: _Session, request: CandidateTiming, timed: bool) -> TimingReply:
    if session.timer is None:
        session.timer = BlockTimer(session.target)
    cand = session.candidate
    try:
        if not timed:
            session.timer.warm(cand, cand.draw, request.seeds)
            return TimingReply((), (), cover_us=session.timer.cover_us, tampered=tuple(clock.tampered()))
        if request.cover_us > 0.0:
            session.timer.use_cover(request.cover_us)
        block = session.timer.block(cand, cand.draw, request.seeds)
    except Exception as exc:
        return TimingReply((), (), failure=_run_failure(exc, session), tampered=tuple(clock.tampered()))
    return TimingReply(
        samples_us=tuple(block.samples_us),
        checksums=tuple(block.checksums),
        dropped=block.dropped,
        wall_s=block.wall_s,
        tampered=tuple(clock.tampered()),
    )


def _send(session: _Session, request: CandidateSend) -> CallReply:
    kept = session.timer.kept if session.timer is not None else []
    missing = [call for call in request.calls if not 0 <= call < len(kept)]
    if missing or not request.calls:
        raise BadQuestion(f"no timed call {missing[0] if missing else '(none asked)'} to send")
    name = os.path.basename(request.output_file)
    failed = _write(session, name, [kept[call] for call in request.calls])
    if failed is not None:
        return CallReply("", (), (), tuple(clock.tampered()), failed)
    return CallReply(name, (), (), tuple(clock.tampered()))
