"""Writing an optimize result into the file on disk, and putting the original back (`undo`).

A write happens only if the file is still exactly what the run optimized (sha256 check), and it is
atomic (a temporary file in the same folder, then rename), so an editor or another process never sees
half a file. The original text goes into the store first, so `undo` can always restore it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kernelwright.core.candidate import text_hash
from kernelwright.core.errors import KernelwrightError
from kernelwright.optimize.events import OptimizeResult
from kernelwright.store import AppliedEdit, Store


class ApplyError(KernelwrightError):
    """The file cannot be written as asked (it changed since, or there is nothing to apply or undo)."""


def atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".kw-tmp", dir=path.parent)
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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ApplyError(f"{path} cannot be read ({exc})") from None


def apply_result(path: Path, result: OptimizeResult, store: Store) -> AppliedEdit:
    if result.new_file_text is None:
        raise ApplyError(f"there is nothing to apply: {result.message}")
    current = _read(path)
    if text_hash(current) != result.original_hash:
        raise ApplyError(
            f"{path} changed while the optimize run was going, so its result was not written; "
            "re-run optimize on the file as it is now"
        )
    edit = store.record_applied_edit(str(path.resolve()), current, result.new_file_text, result.attempt_id)
    atomic_write(path, result.new_file_text)
    return edit


def undo(path: Path, store: Store, force: bool = False) -> AppliedEdit:
    edit = store.last_applied_edit(str(path.resolve()))
    if edit is None:
        raise ApplyError(f"there is no applied optimize edit of {path} to undo")
    current = _read(path) if path.exists() else ""
    if text_hash(current) != edit.new_hash and not force:
        raise ApplyError(
            f"{path} changed after `optimize --apply` wrote it; undoing would throw those changes away. "
            "Pass --force to restore the text from before the optimize anyway"
        )
    atomic_write(path, edit.original_text)
    store.mark_undone(edit.id)
    return edit
