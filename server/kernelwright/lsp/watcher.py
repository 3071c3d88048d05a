"""watchdog on the workspace roots: a file changed on disk re-profiles the measured sites it affects.

A change to a file with measured sites, or to a file such a file imports, queues a re-profile. Events
arrive on watchdog's thread and are handed to the server's loop; a burst (a branch switch, a formatter
over the tree) is coalesced into one pass after the debounce period. A new profile of a site cancels
the outdated one in flight (Jobs.start). Open documents follow their buffer: a change on disk to an open
file is the editor's to report (didChange/didSave), but its imports are still watched here.

The watcher only notes paths; it never opens a file (what is read later goes through
documents.read_regular_file), so a FIFO or a device in the tree cannot block it. Stopping it is quiet:
an event that watchdog had already taken when it was stopped is dropped, not logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from kernelwright.core.settings import AutoProfile
from kernelwright.core.waiting import within
from kernelwright.lsp import autoprofile
from kernelwright.lsp.app import KernelwrightServer

log = logging.getLogger("kernelwright.lsp.watcher")

WATCHED_SUFFIXES = frozenset({".py", ".cu", ".cuh"})
IGNORED_PARTS = frozenset({".kernelwright", "__pycache__", ".git", ".venv", "node_modules", ".mypy_cache"})

# watchdog's inotify emitter logs this at ERROR when an event it was holding (a move out of the tree waits
# half a second for its other half) comes out after stop(): an event after the end of watching, which a
# stop is expected to drop.
_STOPPED_EMITTER = "InotifyEmitter.queue_events() called when the thread is inactive"


class _QuietStop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _STOPPED_EMITTER


logging.getLogger("watchdog.observers.inotify").addFilter(_QuietStop())


class _Forward(FileSystemEventHandler):
    """Runs on watchdog's thread: filter, then hand the path to the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, changed: set[Path], wake: asyncio.Event) -> None:
        self._loop = loop
        self._changed = changed
        self._wake = wake
        self.stopped = False

    def on_any_event(self, event: FileSystemEvent) -> None:
        if self.stopped or event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if path.suffix in WATCHED_SUFFIXES and not IGNORED_PARTS.intersection(path.parts):
                try:
                    self._loop.call_soon_threadsafe(self._note, path)
                except RuntimeError:  # the loop closed (the server is exiting): nothing to tell
                    return

    def _note(self, path: Path) -> None:
        self._changed.add(path.resolve())
        self._wake.set()


class WorkspaceWatcher:
    def __init__(self, ls: KernelwrightServer, roots: list[Path]) -> None:
        self._ls = ls
        self._changed: set[Path] = set()
        self._wake = asyncio.Event()
        self._observer: BaseObserver = Observer()
        self._handler = _Forward(asyncio.get_running_loop(), self._changed, self._wake)
        for root in roots:
            if root.is_dir():
                self._observer.schedule(self._handler, str(root), recursive=True)
        self._observer.daemon = True
        self._observer.start()
        self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Coalesce: keep collecting until the tree has been quiet for the debounce period.
            quiet = self._ls.session.settings.debounce_ms / 1000
            while True:
                try:
                    await within(self._wake.wait(), quiet)
                    self._wake.clear()
                except TimeoutError:
                    break
            batch = set(self._changed)
            self._changed.clear()
            try:
                files_changed(self._ls, batch)
            except Exception:  # one bad batch must not stop the watcher
                log.exception("handling changed files %s", sorted(map(str, batch)))

    def stop(self) -> None:
        self._handler.stopped = True
        self._task.cancel()
        self._observer.stop()  # joins the emitters
        self._observer.join(timeout=2)


def start(ls: KernelwrightServer) -> None:
    stop(ls)
    roots = ls.session.stores.roots
    if roots:
        ls.session.watcher = WorkspaceWatcher(ls, roots)


def stop(ls: KernelwrightServer) -> None:
    current = ls.session.watcher
    if current is not None:
        current.stop()
        ls.session.watcher = None


def files_changed(ls: KernelwrightServer, paths: set[Path]) -> None:
    """One coalesced batch of changes on disk."""
    ls.log(f"changed on disk: {', '.join(sorted(p.name for p in paths))}")
    ls.session.documents.forget_disk(paths)
    if ls.session.settings.auto_profile is AutoProfile.OFF:
        return
    affected = autoprofile.affected_by(ls, paths)
    for path in affected:
        autoprofile.reprofile_file(ls, path)
