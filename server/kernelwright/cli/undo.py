"""`kernelwright undo FILE`: restore the text that `optimize --apply` replaced.

Exit codes: 0 restored, 1 nothing to undo or the file changed since (without --force), 2 usage.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kernelwright.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from kernelwright.optimize.apply import ApplyError, undo
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
    with store:
        if store.message:
            out.progress(store.message)
        try:
            edit = undo(path, store, force=args.force)
        except ApplyError as exc:
            out.error(str(exc), code="undo")
            return EXIT_FAILED
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(edit.applied_at))
    if out.json_mode:
        out.document({"restored": str(path), "applied_at": edit.applied_at, "attempt_id": edit.attempt_id})
    else:
        out.line(f"restored {path} to its text from before the optimize applied at {when}")
    return EXIT_OK
