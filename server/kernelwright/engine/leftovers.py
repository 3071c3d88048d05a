"""What a killed kernelwright leaves behind, and the sweep that clears it on the next run.

A CLI killed with SIGKILL (or a server that crashed) cannot remove what it made: its workers' folders
(`kernelwright-worker-*` in the temp folder), their exchange folders (`kernelwright-exchange-*` in
/dev/shm), the pool's shared caches (`kernelwright-caches-*`) and an interrupted `--apply`'s temporary
file. Its workers die with it (PR_SET_PDEATHSIG); these stay. So each is named with its owner, the
process that made it: pid, start time (clock ticks since boot: a reused pid is a different owner) and
pid namespace (a process in another namespace, say a container sharing /tmp, has pids that cannot be
checked from here). A sweep removes only what is ours (same user) and whose owner is gone; what it
cannot check, it leaves alone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SHARED_MEMORY = Path("/dev/shm")
WORKER_PREFIX = "kernelwright-worker-"
EXCHANGE_PREFIX = "kernelwright-exchange-"
CACHES_PREFIX = "kernelwright-caches-"

# `<pid>-<start ticks>-<pid namespace>`, as `Owner.tag` writes it.
OWNER_TAG = r"(?P<pid>\d+)-(?P<start>\d+)-(?P<namespace>\d+)"
_RANDOM = r"[a-z0-9_]{8}"  # what tempfile.mkdtemp and mkstemp append
_FOLDER = re.compile(rf"^(?P<prefix>kernelwright-(?:worker|exchange|caches)-){OWNER_TAG}-{_RANDOM}$")
# Exchange folders made before owners were recorded in full: `kernelwright-exchange-<pid>-XXXXXXXX`.
_OLD_EXCHANGE = re.compile(rf"^{EXCHANGE_PREFIX}(?P<pid>\d+)-{_RANDOM}$")


@dataclass(frozen=True)
class Owner:
    pid: int
    start: int | None  # None: the name gave only a pid (an older kernelwright's exchange folder)
    namespace: int | None

    @property
    def tag(self) -> str:
        return f"{self.pid}-{self.start or 0}-{self.namespace or 0}"

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, _start_ticks(pid) or 0, _pid_namespace(pid) or 0)

    @classmethod
    def of_match(cls, match: re.Match[str]) -> Owner:
        return cls(int(match.group("pid")), int(match.group("start")), int(match.group("namespace")))

    def gone(self) -> bool:
        """True only when this owner surely no longer runs; False when it runs or cannot be checked."""
        here = _pid_namespace(os.getpid())
        if self.start is None:
            return not _pid_exists(self.pid)
        if here is None or self.namespace != here or self.start == 0:
            return False  # another namespace's pid, or no /proc to read start times from
        start = _start_ticks(self.pid)
        if start is None:
            return not _pid_exists(self.pid)
        return start != self.start  # the pid was reused by a later process


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _pid_namespace(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_folder(prefix: str, base: Path | None = None) -> Path:
    """A new private folder named with its owner (this process), for `sweep` to find if we are killed."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{Owner.current().tag}-", dir=base))


def folder_owner(name: str) -> Owner | None:
    """The owner written in a folder's name, or None if the name is not one of ours."""
    match = _FOLDER.match(name)
    if match:
        return Owner.of_match(match)
    old = _OLD_EXCHANGE.match(name)
    return Owner(int(old.group("pid")), None, None) if old else None


def _removable(entry: os.DirEntry[str], owner: Owner | None) -> bool:
    if owner is None:
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and owner.gone()


def sweep(base: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """Remove the folders under `base` with one of `prefixes` whose owner is gone; return them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefixes):
            continue
        if _removable(entry, folder_owner(entry.name)):
            shutil.rmtree(entry.path, ignore_errors=True)
            if not os.path.lexists(entry.path):
                removed.append(Path(entry.path))
    return removed


def sweep_stale_folders() -> list[Path]:
    """What killed runs left in the temp folder and in shared memory (a pool calls this as it starts)."""
    removed = sweep(Path(tempfile.gettempdir()), (WORKER_PREFIX, CACHES_PREFIX))
    removed += sweep(SHARED_MEMORY, (EXCHANGE_PREFIX,))
    if removed:
        log.info("removed %d folder(s) left by kernelwright runs that were killed: %s", len(removed), removed)
    return removed
