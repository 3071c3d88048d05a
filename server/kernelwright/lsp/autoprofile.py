"""Automatic re-profiling, as the `autoProfile` setting says: off, on save, or on change (debounced).

Only sites that were measured before are re-profiled: a measurement is the person's opt-in for that
site, and profiling everything on every save would keep the GPU busy for nothing.
"""

from __future__ import annotations

from pathlib import Path

from kernelwright.core.settings import AutoProfile
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.documents import OpenDocument, resolve_imports
from kernelwright.lsp.profile import start_profile
from kernelwright.lsp.results import SiteKey


def document_changed(ls: KernelwrightServer, doc: OpenDocument, saved: bool) -> None:
    mode = ls.session.settings.auto_profile
    if mode is AutoProfile.OFF or (mode is AutoProfile.ON_SAVE and not saved):
        return
    targets = {doc.path} | {p for p in _measured_files(ls) if doc.path in _imports_of(ls, p)}
    for path in targets:
        if saved:
            reprofile_file(ls, path)
        else:

            async def later(path: Path = path) -> None:
                reprofile_file(ls, path)

            ls.session.profile_debounce.call(path, later)


def affected_by(ls: KernelwrightServer, changed: set[Path]) -> set[Path]:
    """Measured files that changed on disk (and are not open: the editor reports those), or that
    import a file that changed."""
    out: set[Path] = set()
    for path in _measured_files(ls):
        open_in_editor = ls.session.documents.is_open(path)
        if (path in changed and not open_in_editor) or changed & _imports_of(ls, path):
            out.add(path)
    return out


def reprofile_file(ls: KernelwrightServer, path: Path) -> int:
    """Re-profile every measured site of `path`; the number of profiles queued."""
    doc = ls.session.documents.for_path(path)
    if doc is None:
        return 0
    queued = 0
    for site in doc.result.sites:
        if ls.session.results.get(SiteKey(path, site.name)).measurement is not None:
            queued += start_profile(ls, doc, site) is not None
    return queued


def _measured_files(ls: KernelwrightServer) -> set[Path]:
    return ls.session.results.measured_paths()


def _imports_of(ls: KernelwrightServer, path: Path) -> set[Path]:
    doc = ls.session.documents.for_path(path)
    return resolve_imports(doc, ls.session.stores.root_for(path)) if doc is not None else set()
