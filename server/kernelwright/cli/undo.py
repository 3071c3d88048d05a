"""`kernelwright undo FILE`: restore the text that `optimize --apply` replaced.

An apply that was killed before it wrote the file is told apart from one that landed: undo says so and
leaves the file as it is. Temporary files such a kill left beside FILE are removed on the way.

Exit codes: 0 restored, 1 nothing to undo (none recorded, or the last one never landed) or the file
changed since (without --force), 2 usage.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.core.jsonable import JsonValue, to_json
from kernelwright.optimize.apply import ApplyError, NotLanded, settle, undo
from kernelwright.store import Store, StoreError, workspace_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a file that `optimize --apply` rewrote")
    parser.add_argument("--force", action="store_true", help="restore even if the file changed since")


def run(args: argparse.Namespace, out: Output) -> int:
    path = Path(args.file)
    if not path.is_file():
        out.error(f"{path}: no such file", code="usage")
        return EXIT_USAGE
    try:
        store = Store.for_workspace(workspace_root(path))
    except StoreError as exc:
        out.error(str(exc), code="store")
        return EXIT_USAGE
    details: dict[str, JsonValue] = {}
    with store:
        if store.recovery is not None:
            out.warn(store.recovery.message)
            details["store_recovery"] = to_json(store.recovery)
        try:
            settled = settle(path, store)
            for temp in settled.removed_temps:
                out.warn(f"removed {temp}, a temporary file left by an `optimize --apply` that was killed")
            if settled.removed_temps:
                details["removed_temporary_files"] = [str(t) for t in settled.removed_temps]
            edit = undo(path, store, force=args.force, settled=settled)
        except NotLanded as exc:
            landed: dict[str, JsonValue] = {
                "applied_at": exc.edit.applied_at,
                "attempt_id": exc.edit.attempt_id,
            }
            out.error(str(exc), code="not_landed", **landed, **details)
            return EXIT_FAILED
        except (ApplyError, StoreError) as exc:
            out.error(str(exc), code="undo", **details)
            return EXIT_FAILED
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(edit.applied_at))
    if out.json_mode:
        out.document(
            {"restored": str(path), "applied_at": edit.applied_at, "attempt_id": edit.attempt_id, **details}
        )
    else:
        out.line(f"restored {path} to its text from before the optimize applied at {when}")
    return EXIT_OK
