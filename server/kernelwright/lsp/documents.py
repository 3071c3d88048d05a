"""Open documents and their analyses: each editor buffer keeps one incremental DocumentAnalysis.

pygls keeps the text (its workspace applies the same changes); this keeps what analysis made of it, so
lenses, hovers and diagnostics read the latest AnalysisResult without parsing again.

Analysis of an open buffer runs in a thread, off the event loop: a 5 MB file takes seconds, and every
other document's requests would wait for it. What the loop reads of a document (`text`, `result`,
`version`) is replaced all at once when the thread is done, never half-updated; the document's lane
(lanes.py) keeps its opens and changes in order and holds its own requests until they are done.

A file read from disk (a hover on a file not open, the watcher re-profiling a closed file) is read only
when it is a regular file: a FIFO would block the read until a writer closes it, and a device such as
/dev/zero never ends.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import to_fs_path

from kernelwright.core.measure import content_key
from kernelwright.core.site import AnalysisResult, Position, Range, Site
from kernelwright.core.sourcefile import NotSource, decode_source, read_source_file
from kernelwright.core.text import TextChange

if TYPE_CHECKING:
    from kernelwright.analysis import DocumentAnalysis

_NEWLINE = re.compile("\n")


class LineIndex:
    """Line start offsets of one text, so a position becomes an offset without rescanning the text.

    Same semantics as core.text.offset_at (UTF-16 columns, clamped to the line and to the text); a
    5,000-line file with hundreds of sites would otherwise scan from the top for every range.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]

    def line_span(self, line: int) -> tuple[int, int]:
        """Offsets of a line's start and end (before its "\n"); `line` must be below len(starts)."""
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return start, end

    def offset(self, pos: Position) -> int:
        if pos.line >= len(self.starts):
            return len(self.text)
        start, end = self.line_span(max(pos.line, 0))
        want = max(pos.character, 0)
        segment = self.text[start:end]
        if segment.isascii():
            return min(start + want, end)
        units = 0
        for index, char in enumerate(segment):
            if units >= want:
                return start + index
            units += 2 if ord(char) > 0xFFFF else 1
        return end

    def slice(self, rng: Range) -> str:
        start = self.offset(rng.start)
        return self.text[start : max(start, self.offset(rng.end))]


@dataclass
class OpenDocument:
    uri: str
    path: Path
    version: int
    analysis: DocumentAnalysis  # touched only by the document's lane (in a thread): read `text`, `result`
    result: AnalysisResult
    text: str
    _index: LineIndex | None = None

    @property
    def lines(self) -> LineIndex:
        text = self.text
        if self._index is None or self._index.text is not text:
            self._index = LineIndex(text)
        return self._index

    def site(self, name: str) -> Site | None:
        return self.result.site(name)

    def site_text(self, site: Site) -> str:
        return self.lines.slice(site.range)


def uri_to_path(uri: str) -> Path:
    fs = to_fs_path(uri)
    if fs is None:
        raise ValueError(f"{uri} is not a file URI: kernelwright works on files on disk")
    return Path(fs).resolve()


class CodeHashes:
    """The code of a site as it is now, to tell whether a measurement of it is stale.

    `site` is the hash of the site's own text, what `SiteRecord.site_hash` holds for a measurement this
    server took (an edit elsewhere in the file leaves it fresh). A measurement read back from the store
    has only its `source_hash`, the content key of the file it ran (core.measure.content_key, the one
    form a result carries; store/keys.py says what becomes of rows of older forms): `matches` compares
    that. Lazy, so the full-file hash is computed only for measurements from the store.
    """

    def __init__(self, doc: OpenDocument, site: Site) -> None:
        self._doc = doc
        self._site = site

    @cached_property
    def site(self) -> str:
        return content_key(self._doc.site_text(self._site))

    @cached_property
    def content(self) -> str:
        return content_key(self._doc.text)

    def matches(self, source_hash: str) -> bool:
        return source_hash == self.content


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
        self._opening: Counter[str] = Counter()  # didOpen received, analysis not done yet

    def opening(self, uri: str) -> None:
        """A didOpen arrived: until its analysis is done the file is neither read from disk nor served
        from an older analysis of the disk's text."""
        self._opening[uri] += 1

    async def open(self, uri: str, text: str, version: int) -> OpenDocument:
        try:
            path = uri_to_path(uri)
            doc = await asyncio.to_thread(_analyse, uri, path, text, version)
        finally:
            self._opening[uri] -= 1
            if self._opening[uri] <= 0:
                del self._opening[uri]
        self._open[uri] = doc
        self._disk.pop(doc.path, None)
        return doc

    async def change(self, uri: str, changes: Sequence[TextChange], version: int) -> OpenDocument | None:
        doc = self._open.get(uri)
        if doc is None:
            return None
        analysis = doc.analysis

        def apply() -> tuple[AnalysisResult, str]:
            result = analysis.apply_changes(changes, version)
            return result, analysis.text

        result, text = await asyncio.to_thread(apply)
        doc.result, doc.text, doc.version = result, text, version
        return doc

    def close(self, uri: str) -> None:
        self._open.pop(uri, None)

    def get(self, uri: str) -> OpenDocument | None:
        """The open buffer, else the file on disk (analysed once, until it changes)."""
        doc = self._open.get(uri)
        if doc is not None or uri in self._opening:
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
        text = read_regular_file(path)
        if text is None:
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


def read_regular_file(path: Path) -> str | None:
    """The UTF-8 text of `path` if it is a regular file (core.sourcefile: never blocks on a FIFO or a
    device), else None, as for a file that cannot be read or decoded."""
    data = read_source_file(path)
    if isinstance(data, NotSource):
        return None
    try:
        return decode_source(data)
    except UnicodeDecodeError:
        return None


def _analyse(uri: str, path: Path, text: str, version: int) -> OpenDocument:
    # Imported on first use (and warmed after `initialized`): tree-sitter's grammars load in tens of
    # milliseconds that the initialize response should not wait for.
    from kernelwright.analysis import DocumentAnalysis

    analysis = DocumentAnalysis(str(path), text)
    return OpenDocument(uri, path, version, analysis, analysis.result, analysis.text)
