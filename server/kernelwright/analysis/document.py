"""One open document: its text, its tree, and incremental re-analysis after editor changes."""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Parser, Point, Tree

from kernelwright.analysis.parsing import parser_for
from kernelwright.analysis.pipeline import Pipeline, encode, internal_error, language_for
from kernelwright.core.site import AnalysisResult, Language
from kernelwright.core.text import TextChange, range_offsets


def _point_after(start: Point, inserted: bytes) -> Point:
    """Where the end of `inserted` lands when it is inserted at `start`."""
    newlines = inserted.count(b"\n")
    if newlines == 0:
        return Point(start.row, start.column + len(inserted))
    return Point(start.row + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


# Above this size a fresh parse reads the source in slices (see _fresh_parse).
SLICED_PARSE_ABOVE = 1 << 20
_SLICE = 1 << 16


def _fresh_parse(parser: Parser, source: bytes) -> Tree:
    """Parse `source` from scratch without holding the GIL for all of it.

    One parse call over a 5 MB buffer holds the GIL for most of a second, and the language server
    analyses in a thread so that its event loop keeps answering; read through a callback, 64 KB at a
    time, the parse lets other threads run between reads. A tree parsed that way reads node text back
    through the callback (ten times slower analysis), so it is parsed once more from the bytes with
    itself as the old tree: nothing changed, every node is reused (tens of ms). A broken file is parsed
    from the bytes alone, as apply_changes does, so its error recovery never depends on that step."""
    if len(source) <= SLICED_PARSE_ABOVE:
        return parser.parse(source)
    sliced = parser.parse(lambda offset, _: source[offset : offset + _SLICE])
    if sliced.root_node.has_error:
        return parser.parse(source)
    return parser.parse(source, sliced)


class DocumentAnalysis:
    """Keeps the parse tree between edits: tree.edit + an incremental parse, then a cached analysis."""

    def __init__(self, path: str, text: str, language: Language | None = None) -> None:
        self.path = path
        self.language = language or language_for(path) or Language.PYTHON
        self.text = text
        self.version: int | None = None
        self._parser = parser_for(self.language)
        self._pipeline = Pipeline(self.language)
        self._source = encode(text)
        self._tree: Tree | None = _fresh_parse(self._parser, self._source)
        self.result = self._pipeline.run(self._tree, self._source, path)

    def apply_changes(self, changes: Sequence[TextChange], version: int | None = None) -> AnalysisResult:
        """Apply LSP content changes in order and return the new analysis. Never raises."""
        try:
            for change in changes:
                self._apply(change)
            source = encode(self.text)
            tree = self._parser.parse(source, self._tree) if self._tree else None
            if tree is None or tree.root_node.has_error:
                # Error recovery after an incremental parse can differ from a fresh parse of the same
                # text; a broken file is parsed from scratch so the result never depends on edit history.
                tree = _fresh_parse(self._parser, source)
            self._tree = tree
            self._source = source
            self.result = self._pipeline.run(self._tree, source, self.path)
        except Exception as exc:  # keep the document usable: report, and re-parse from scratch next time
            self._tree = None
            self.result = internal_error(self.path, self.language, exc)
        self.version = version
        return self.result

    def _apply(self, change: TextChange) -> None:
        text = self.text
        if change.range is None:
            self.text = change.text
            self._tree = None
            return
        start, end = range_offsets(text, change.range)
        self.text = text[:start] + change.text + text[end:]
        if self._tree is None:
            return
        start_byte = len(encode(text[:start]))
        old_end_byte = start_byte + len(encode(text[start:end]))
        inserted = encode(change.text)
        start_point = Point(
            text.count("\n", 0, start), len(encode(text[text.rfind("\n", 0, start) + 1 : start]))
        )
        old_end_point = _point_after(start_point, encode(text[start:end]))
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=start_byte + len(inserted),
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=_point_after(start_point, inserted),
        )
