"""Holding a candidate worker's processes stopped between the judge's questions, and seeing it when one
of them runs anyway.

Between two questions the engine stops every process under a candidate worker (SIGSTOP, through
`engine.process.signal_tree`), so no thread of the candidate's can race the judge's reads or run beside
the reference while the judge times it. SIGSTOP is no lock: a stopped process resumes on any SIGCONT
generated for it, and a candidate can have the kernel generate one while every process of its is stopped:
a POSIX timer that delivers SIGCONT, a file's async-I/O signal set to SIGCONT (which the judge's own read
of the outputs file then sends), a helper in another process group that the freeze reached last
(samples/confinement/thaw_by_timer.py, thaw_by_file_event.py). A system-call filter cannot refuse them
all: a timer's signal number is behind a pointer.

So the engine watches instead of trusting the stop. While a worker is held, `FreezeWatch` reads every task
(thread) under it from /proc: a task seen stopped has settled, and if it later runs (its state leaves T, or
the count of times it was scheduled in moves, however briefly it ran) it ran while held; so does a task that
keeps running, or a thread or process that appears, once the stop has had `SETTLE_S` to take. One look at
thaw covers the time since the last poll, so a burst between two polls is seen too. The worker is then
killed and the judge told (ErrorCode.ESCAPED): the candidate is rejected as `tamper`, whatever its outputs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

FREEZE_WATCH_S = 0.02  # how often a held worker's tasks are read
FIRST_LOOKS_S = 0.002  # at the freeze, looks are repeated this long, until every task has stopped
# Time a stop has to take. A task waiting in the kernel (in the driver, say) stops when its call returns,
# and is not scheduled meanwhile, so it is never taken for running however long that is; a task still
# scheduled after the stop was sent, on LATE_MOVES looks past SETTLE_S, is running despite it: something
# resumes it as often as the watch stops it again.
SETTLE_S = 0.1
LATE_MOVES = 3


@dataclass
class _Task:
    pid: int
    counters: str
    settled: bool = False
    moves: int = 0  # looks on which it had been scheduled since the one before, while not stopped
    late_moves: int = 0  # those past SETTLE_S


@dataclass(frozen=True)
class TaskMark:
    pid: int  # the process
    tid: int  # the task (thread) in it
    state: str  # /proc's one-letter state: R, S, D, T (stopped), t (traced), Z, X
    counters: str  # what moves only when the task is scheduled
    # True where `counters` is the count of times the task was scheduled in (schedstat): it cannot move
    # for a task that stays stopped, so one look at it stopped settles it. Else (CPU time in ticks, which
    # may still be accounted just after the stop) it must be seen alike twice.
    exact: bool


class FreezeWatch:
    """One freeze of a worker's processes (`tree` lists them: the worker and every process below it),
    looked at again and again until the thaw. The first looks follow one another until every task has
    stopped (or FIRST_LOOKS_S passed), so even a freeze shorter than a poll is watched from its start."""

    def __init__(self, tree: Callable[[], list[int]]) -> None:
        self.tree = tree
        self.started = time.monotonic()
        self.tasks: dict[int, _Task] = {}
        self.escape: str | None = None
        while self.look() is None and not self.settled and time.monotonic() - self.started < FIRST_LOOKS_S:
            pass

    @property
    def settled(self) -> bool:
        return all(task.settled for task in self.tasks.values())

    def look(self, thaw: bool = False) -> str | None:
        """Read every task once; the escape this or an earlier look saw (None while there is none).
        Processes with a task not yet stopped are sent SIGSTOP again. At the thaw (`thaw`), a task that
        never stopped and was scheduled on two looks or more ran through the freeze: a task waiting for a
        CPU takes its stop the first time it runs."""
        if self.escape is not None:
            return self.escape
        late = time.monotonic() - self.started > SETTLE_S
        restop: set[int] = set()
        for mark in task_marks(self.tree()):
            if mark.state in "ZX":
                self.tasks.pop(mark.tid, None)
                continue  # exiting or dead: it runs nothing more
            stopped = mark.state in "Tt"
            known = self.tasks.get(mark.tid)
            if known is None:
                if late:
                    return self._escaped(mark.pid, f"task {mark.tid} appeared while its processes were held")
                known = self.tasks[mark.tid] = _Task(mark.pid, mark.counters, settled=stopped and mark.exact)
                if not known.settled:
                    restop.add(mark.pid)
                continue
            moved = mark.counters != known.counters
            known.counters = mark.counters
            if known.settled:
                if moved or not stopped:
                    how = "was scheduled again" if stopped else f"is in state {mark.state}"
                    return self._escaped(mark.pid, f"task {mark.tid}, stopped, later {how}")
            elif stopped and (mark.exact or not moved):
                known.settled = True
            else:
                restop.add(mark.pid)
                known.moves += moved
                known.late_moves += moved and late
                if known.late_moves >= LATE_MOVES or (thaw and known.moves >= 2):
                    return self._escaped(mark.pid, f"task {mark.tid} kept running after the stop")
        for pid in restop:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        return None

    def _escaped(self, pid: int, what: str) -> str:
        self.escape = (
            f"process {pid} of the candidate's ran while the engine held its processes stopped between "
            f"the judge's questions ({what}): something resumed it (a SIGCONT from a timer, from a file's "
            f"async-I/O signal or from another of its processes); its worker was killed"
        )
        return self.escape


def task_marks(pids: list[int]) -> list[TaskMark]:
    """Every task of the processes `pids`, as /proc shows it now."""
    marks: list[TaskMark] = []
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for name in tids:
            mark = _mark(pid, name)
            if mark is not None:
                marks.append(mark)
    return marks


def _mark(pid: int, tid: str) -> TaskMark | None:
    base = f"/proc/{pid}/task/{tid}"
    try:
        with open(f"{base}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold anything: fields after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 13:
        return None
    try:
        with open(f"{base}/schedstat") as fh:
            slices = fh.read().split()[2]  # run time (ns), wait time (ns), times scheduled in
        return TaskMark(pid, int(tid), fields[0], slices, exact=True)
    except (OSError, IndexError):
        # utime and stime, in clock ticks (a kernel without schedstat)
        return TaskMark(pid, int(tid), fields[0], f"{fields[11]}:{fields[12]}", exact=False)
