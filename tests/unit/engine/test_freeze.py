"""The freeze between a judge's questions is watched (engine.freeze): processes that stay stopped are
left alone however busy they were, and one that the kernel resumes while held (a SIGCONT from its own
timer, from a file's async-I/O signal) is seen, on a poll or in the one look at the thaw."""

from __future__ import annotations

import contextlib
import fcntl
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernelwright.engine.freeze import FreezeWatch, task_marks
from kernelwright.engine.process import descendants, signal_tree

pytestmark = pytest.mark.processes

SPIN = "import threading\nwhile True:\n    pass\n"
SLEEP_THREADS = (
    "import threading, time\n"
    "for _ in range(4):\n    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
    "while True:\n    sum(range(10000))\n"
)
# One-shot POSIX timers that deliver SIGCONT, each re-armed once it has fired (a stop flushes a pending
# SIGCONT, and a periodic timer is re-armed only when its signal is taken, so one periodic timer dies at
# the first stop; many one-shot ones do not).
TIMER = """
import ctypes, random
libc = ctypes.CDLL(None, use_errno=True)
class SigEvent(ctypes.Structure):
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("pad", ctypes.c_byte * 48)]
class TimeSpec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]
timers = []
for _ in range(32):
    timer = ctypes.c_void_p()
    assert libc.timer_create(1, ctypes.byref(SigEvent(None, int(SIGNAL), 0)), ctypes.byref(timer)) == 0
    timers.append(timer)
left = (TimeSpec * 2)()
while True:
    for timer in timers:
        libc.timer_gettime(timer, ctypes.byref(left))
        if left[1].sec == 0 and left[1].nsec == 0:
            when = (TimeSpec * 2)(TimeSpec(0, 0), TimeSpec(0, random.randint(1, LATEST_MS) * 1_000_000))
            libc.timer_settime(timer, 0, ctypes.byref(when), None)
    sum(range(1000))
"""


HANDLED = "import signal\nsignal.signal(signal.SIGUSR2, lambda *args: None)\n"


def timers(signo: int, latest_ms: int) -> str:
    return TIMER.replace("SIGNAL", str(signo)).replace("LATEST_MS", str(latest_ms))


@contextlib.contextmanager
def started(code: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        time.sleep(0.5)  # up and running
        yield proc
    finally:
        signal_tree(proc.pid, signal.SIGKILL)
        proc.wait()


def stopped(pid: int) -> FreezeWatch:
    """Freeze `pid`'s tree as the engine does, and wait until every task has taken the stop: on a busy
    machine a task waiting for a CPU takes its SIGSTOP only when it next runs."""
    signal_tree(pid, signal.SIGSTOP)
    watch = FreezeWatch(lambda: [pid, *descendants([pid])])
    deadline = time.monotonic() + 5.0
    while not watch.settled and watch.look() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert watch.settled or watch.escape is not None
    return watch


def hold(pid: int, seconds: float, poll: float = 0.05) -> str | None:
    """Freeze `pid`'s tree as the engine does and watch it for `seconds`; the escape seen, if any."""
    watch = stopped(pid)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(poll, max(0.0, end - time.monotonic())))
        if watch.look() is not None:
            break
    escape = watch.look(thaw=True)
    signal_tree(pid, signal.SIGCONT)
    return escape


@pytest.mark.parametrize(
    "code",
    [SPIN, SLEEP_THREADS, HANDLED + timers(int(signal.SIGUSR2), 5)],
    ids=["spinning", "threads", "other-signal"],
)
def test_processes_that_stay_stopped_are_not_an_escape(code: str) -> None:
    with started(code) as proc:
        for _ in range(5):
            assert hold(proc.pid, 0.7) is None
            time.sleep(0.05)
        marks = task_marks([proc.pid])
        assert marks and all(m.exact for m in marks)  # this kernel counts times scheduled in


@pytest.mark.parametrize("latest_ms", [5, 400])
def test_a_timer_that_sends_sigcont_is_seen(latest_ms: int) -> None:
    code = timers(int(signal.SIGCONT), latest_ms)
    with started(code) as proc:
        escape = hold(proc.pid, 1.0)
    assert escape is not None and f"process {proc.pid}" in escape and "ran while the engine held" in escape


def test_a_short_burst_between_polls_is_seen_at_the_thaw() -> None:
    with started(timers(int(signal.SIGCONT), 100)) as proc:
        escape = hold(proc.pid, 0.06, poll=10.0)  # no poll: only the first looks and the thaw's
    assert escape is not None


def test_a_files_async_signal_set_to_sigcont_is_seen(tmp_path: Path) -> None:
    """The judge's own read of a file in the watched folder wakes the holder of an inotify fd whose
    async-I/O signal is SIGCONT."""
    code = (
        "import ctypes, fcntl, os\n"
        "libc = ctypes.CDLL(None)\n"
        "fd = libc.inotify_init1(os.O_NONBLOCK)\n"
        f"libc.inotify_add_watch(fd, {str(tmp_path).encode()!r}, 0x1 | 0x20)\n"
        "fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())\n"
        f"fcntl.fcntl(fd, 10, {int(signal.SIGCONT)})\n"
        "fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)\n"
        "while True:\n    sum(range(1000))\n"
    )
    (tmp_path / "out").write_bytes(b"x")
    with started(code) as proc:
        watch = stopped(proc.pid)
        (tmp_path / "out").read_bytes()  # the judge reads the outputs file
        time.sleep(0.1)  # the SIGCONT resumes it at once, whether or not it gets a CPU
        escape = watch.look(thaw=True)
        signal_tree(proc.pid, signal.SIGCONT)
    assert escape is not None
    assert fcntl.F_SETOWN == 8  # the numbers the samples use on Linux
