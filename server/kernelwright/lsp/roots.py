"""Workspace roots: every folder the client opened. Each root keeps its own results under
<root>/.kernelwright/; a file outside every root belongs to its own directory."""

from __future__ import annotations

from pathlib import Path

from pygls.uris import to_fs_path
from pygls.workspace import Workspace


def workspace_roots(workspace: Workspace) -> list[Path]:
    roots: list[Path] = []
    for folder in workspace.folders.values():
        fs = to_fs_path(folder.uri)
        if fs is not None:
            roots.append(Path(fs).resolve())
    if not roots and workspace.root_path:
        roots.append(Path(workspace.root_path).resolve())
    return roots


def root_for(roots: list[Path], path: Path) -> Path:
    """The innermost root containing `path` (nested roots are allowed), else the file's directory."""
    best: Path | None = None
    for root in roots:
        if path.is_relative_to(root) and (best is None or len(root.parts) > len(best.parts)):
            best = root
    return best if best is not None else path.parent
