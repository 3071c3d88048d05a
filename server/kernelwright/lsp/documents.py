"""Open documents and their analyses: each editor buffer keeps one incremental DocumentAnalysis.

pygls keeps the text (its workspace applies the same changes); this keeps what analysis made of it, so
lenses, hovers and diagnostics read the latest AnalysisResult without parsing again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pygls.uris import to_fs_path

from kernelwright.analysis import DocumentAnalysis
from kernelwright.core.site import AnalysisResult, Site
from kernelwright.core.text import TextChange, range_offsets
from kernelwright.store.keys import site_source_hash


@dataclass
class OpenDocument:
    uri: str
    path: Path
    version: int
    analysis: DocumentAnalysis
    result: AnalysisResult

    @property
    def text(self) -> str:
        return self.analysis.text

    def site(self, name: str) -> Site | None:
        return self.result.site(name)

    def site_text(self, site: Site) -> str:
        return slice_range(self.text, site)


def uri_to_path(uri: str) -> Path:
    fs = to_fs_path(uri)
    if fs is None:
        raise ValueError(f"{uri} is not a file URI: kernelwright works on files on disk")
    return Path(fs).resolve()


def slice_range(text: str, site: Site) -> str:
    """The site's text, from the start of its range to its end."""
    start, end = range_offsets(text, site.range)
    return text[start:end]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CodeHashes:
    """The hashes a measurement's `source_hash` may have been taken over, for the code as it is now.

    Lazy: the site's own hash is all a measurement this server took needs; the file-wide ones (a
    full-file sha256 each) are computed only for measurements read back from the store.
    """

    def __init__(self, doc: OpenDocument, site: Site) -> None:
        self._doc = doc
        self._site_text = doc.site_text(site)

    @cached_property
    def site(self) -> str:
        return text_hash(self._site_text)

    def matches(self, source_hash: str) -> bool:
        if source_hash == self.site:
            return True
        text = self._doc.text
        return source_hash in (text_hash(text), site_source_hash(self._site_text, text))


def code_hashes(doc: OpenDocument, site: Site) -> CodeHashes:
    return CodeHashes(doc, site)


def resolve_imports(doc: OpenDocument, root: Path) -> set[Path]:
    """Files of this workspace that `doc` imports: each dotted module tried beside the file and under
    the root, as a module file or a package's __init__.py. Modules outside the workspace are skipped."""
    out: set[Path] = set()
    for module in doc.result.imports:
        dots = len(module) - len(module.lstrip("."))
        rel = Path(*module.lstrip(".").split(".")) if module.strip(".") else Path()
        bases = [doc.path.parent] if dots else [doc.path.parent, root]
        if dots > 1:
            bases = [doc.path.parents[dots - 2]] if dots - 2 < len(doc.path.parents) else []
        for base in bases:
            for candidate in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
                if rel.parts and candidate.is_file():
                    out.add(candidate.resolve())
    return out


class Documents:
    """Open buffers (the editor's truth) and, for files not open, analyses of their text on disk."""

    def __init__(self) -> None:
        self._open: dict[str, OpenDocument] = {}
        self._disk: dict[Path, OpenDocument] = {}

    def open(self, uri: str, text: str, version: int) -> OpenDocument:
        doc = _analyse(uri, uri_to_path(uri), text, version)
        self._open[uri] = doc
        self._disk.pop(doc.path, None)
        return doc

    def change(self, uri: str, changes: Sequence[TextChange], version: int) -> OpenDocument | None:
        doc = self._open.get(uri)
        if doc is None:
            return None
        doc.result = doc.analysis.apply_changes(changes, version)
        doc.version = version
        return doc

    def close(self, uri: str) -> None:
        self._open.pop(uri, None)

    def get(self, uri: str) -> OpenDocument | None:
        """The open buffer, else the file on disk (analysed once, until it changes)."""
        doc = self._open.get(uri)
        if doc is not None:
            return doc
        try:
            path = uri_to_path(uri)
        except ValueError:
            return None
        return self.for_path(path)

    def is_open(self, path: Path) -> bool:
        return any(doc.path == path for doc in self._open.values())

    def for_path(self, path: Path) -> OpenDocument | None:
        path = path.resolve()
        for doc in self._open.values():
            if doc.path == path:
                return doc
        cached = self._disk.get(path)
        if cached is not None:
            return cached
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        loaded = _analyse(path.as_uri(), path, text, 0)
        self._disk[path] = loaded
        return loaded

    def forget_disk(self, paths: set[Path]) -> None:
        """Files changed on disk: analyse them again when next asked."""
        for path in paths:
            self._disk.pop(path, None)

    def __iter__(self) -> Iterator[OpenDocument]:
        return iter(list(self._open.values()))


def _analyse(uri: str, path: Path, text: str, version: int) -> OpenDocument:
    analysis = DocumentAnalysis(str(path), text)
    return OpenDocument(uri, path, version, analysis, analysis.result)
