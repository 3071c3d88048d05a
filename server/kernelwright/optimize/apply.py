"""Writing an optimize result into the file on disk, and putting the original back (`undo`).

A write happens only if the file is still exactly what the run optimized (sha256 check), and it is
atomic (a temporary file in the same folder, then rename), so an editor or another process never sees
half a file. The original text goes into the store first, so `undo` can always restore it; once the
rename is done the edit is marked as landed.

A run killed in the middle (SIGKILL between the store's record and the rename) leaves two things: its
temporary file, named `.<file>.<owner>.XXXXXXXX.kw-tmp` with the process that wrote it (engine.leftovers),
and an edit recorded but not marked as landed. The next apply or undo of that file settles both
(`settle`): it removes temporary files of that file whose writer is gone, and reads the file to tell an
edit that landed (the file has its new text) from one that never did (it still has its original text:
the edit is dropped, and undo says so and changes nothing).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.measure import content_key
from kernelwright.engine.leftovers import OWNER_TAG, Owner
from kernelwright.optimize.events import OptimizeResult
from kernelwright.store import AppliedEdit, Store

TEMP_SUFFIX = ".kw-tmp"
# A temporary file named without its writer (an older kernelwright's) is stale once this old: a write
# takes milliseconds.
UNOWNED_TEMP_STALE_S = 60.0


class ApplyError(KernelwrightError):
    """The file cannot be written as asked (it changed since, or there is nothing to apply or undo)."""


class NotLanded(ApplyError):
    """The edit undo was asked to undo never reached the file: nothing was changed."""

    def __init__(self, message: str, edit: AppliedEdit) -> None:
        super().__init__(message)
        self.edit = edit


@dataclass(frozen=True)
class Settled:
    """What `settle` found for one file."""

    removed_temps: tuple[Path, ...] = ()
    dropped: tuple[AppliedEdit, ...] = ()  # recorded edits that never landed, newest first


def _temp_name(path: Path) -> re.Pattern[str]:
    return re.compile(
        rf"^\.{re.escape(path.name)}\.(?:{OWNER_TAG}\.)?[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}$"
    )


def atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    prefix = f".{path.name}.{Owner.current().tag}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files of `path` (next to it, named as `atomic_write` names them) whose
    writer is gone: what an apply killed mid-write left. A live writer's file is left alone."""
    pattern = _temp_name(path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if match.group("pid") is not None:
            stale = Owner.of_match(match).gone()
        else:
            try:
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > UNOWNED_TEMP_STALE_S
            except OSError:
                continue
        if stale:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            removed.append(Path(entry.path))
    return removed


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ApplyError(f"{path} cannot be read ({exc})") from None


def _current_hash(path: Path) -> str | None:
    """The file's text hash, or None if it cannot be read as text (then nothing is settled)."""
    try:
        return content_key(path.read_text(encoding="utf-8")) if path.exists() else content_key("")
    except (OSError, UnicodeDecodeError):
        return None


def settle(path: Path, store: Store) -> Settled:
    """Clear what a killed apply of `path` left: its stale temporary files, and edits recorded but not
    marked as landed, which the file's text now decides (new text: landed; original text: dropped)."""
    removed = tuple(remove_stale_temps(path))
    unsettled = store.unsettled_edits(str(path.resolve()))
    current = _current_hash(path) if unsettled else None
    dropped: list[AppliedEdit] = []
    for edit in unsettled:
        if current == edit.new_hash:
            store.mark_landed(edit.id)
        elif current == edit.original_hash:
            store.mark_dropped(edit.id)
            dropped.append(edit)
    return Settled(removed, tuple(dropped))


def apply_result(path: Path, result: OptimizeResult, store: Store) -> AppliedEdit:
    if result.new_file_text is None:
        raise ApplyError(f"there is nothing to apply: {result.message}")
    settle(path, store)
    current = _read(path)
    if content_key(current) != result.original_hash:
        raise ApplyError(
            f"{path} changed while the optimize run was going, so its result was not written; "
            "re-run optimize on the file as it is now"
        )
    edit = store.record_applied_edit(str(path.resolve()), current, result.new_file_text, result.attempt_id)
    atomic_write(path, result.new_file_text)
    store.mark_landed(edit.id)
    return edit


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def undo(path: Path, store: Store, force: bool = False, settled: Settled | None = None) -> AppliedEdit:
    """Restore the text the last landed edit of `path` replaced. NotLanded if the last recorded edit
    never reached the file (the file is left as it is), ApplyError if there is nothing to undo or the
    file changed since (unless `force`). `settled`: what the caller's own `settle` of the file found."""
    settled = settle(path, store) if settled is None else settled
    edit = store.last_applied_edit(str(path.resolve()))
    newest_drop = settled.dropped[0] if settled.dropped else None
    if newest_drop is not None and (edit is None or newest_drop.applied_at >= edit.applied_at):
        earlier = (
            ""
            if edit is None
            else f" An earlier edit, applied at {_when(edit.applied_at)}, did land: run undo again for it."
        )
        raise NotLanded(
            f"the optimize --apply of {path} at {_when(newest_drop.applied_at)} never landed: it was stopped "
            "before it wrote the file, which still has its text from before. Nothing was changed, and the "
            f"record of that edit was dropped.{earlier}",
            newest_drop,
        )
    if edit is None:
        raise ApplyError(f"there is no applied optimize edit of {path} to undo")
    current = _read(path) if path.exists() else ""
    current_hash = content_key(current)
    if current_hash == edit.original_hash and edit.landed_at is not None:
        store.mark_undone(edit.id)
        raise ApplyError(
            f"{path} already has its text from before the optimize --apply of {_when(edit.applied_at)} "
            "(undone by hand, or by an editor?), so there is nothing to restore; it counts as undone now"
        )
    if current_hash != edit.new_hash and not force:
        if edit.landed_at is None:
            raise ApplyError(
                f"the optimize --apply of {path} at {_when(edit.applied_at)} was interrupted, and the file "
                "now holds neither its text from before nor the optimized text: it was edited since. "
                "Pass --force to restore the text from before the optimize anyway"
            )
        raise ApplyError(
            f"{path} changed after `optimize --apply` wrote it; undoing would throw those changes away. "
            "Pass --force to restore the text from before the optimize anyway"
        )
    atomic_write(path, edit.original_text)
    store.mark_undone(edit.id)
    return edit
