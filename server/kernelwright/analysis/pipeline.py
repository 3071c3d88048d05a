"""One analysis run over a parsed tree, reusing the facts of top-level statements that did not change.

A statement's facts depend only on its node type, its start column and its text from the start of
its first line (so UTF-16 columns are fixed), and for Python on the file's import aliases: that is
the cache key. Statements with syntax errors are not cached, since error recovery may depend on what
precedes them. An edit inside one function re-reads that function only; every other statement's facts
are reused and moved to their new lines by the linking step. A full `analyze` is the same run with an
empty cache, so the incremental result equals the full one by construction.
"""

from __future__ import annotations

import bisect
import codecs
from collections.abc import Hashable
from pathlib import PurePath

from tree_sitter import Node, Query, QueryCursor, Tree

from kernelwright.analysis import cuda, directives, python, syntax
from kernelwright.analysis.parsing import node_text, parser_for
from kernelwright.analysis.positions import ByteColumns
from kernelwright.analysis.rules import RuleId, finding
from kernelwright.core.site import AnalysisResult, Language, Range, SiteKind

_SUFFIXES = {".py": Language.PYTHON, ".pyi": Language.PYTHON, ".cu": Language.CUDA, ".cuh": Language.CUDA}


def language_for(path: str) -> Language | None:
    """.py/.pyi -> PYTHON, .cu/.cuh -> CUDA, anything else None."""
    return _SUFFIXES.get(PurePath(path).suffix.lower())


def _same_length_replacement(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "?" * (exc.end - exc.start), exc.end


codecs.register_error("kernelwright-same-length", _same_length_replacement)


def valid_utf8(data: bytes) -> bytes:
    """`data` with each byte of an invalid UTF-8 sequence replaced by `?`: offsets stay where they were.

    tree-sitter's query predicates decode node text strictly, so bad bytes must not reach them."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return data.decode("utf-8", "kernelwright-same-length").encode("utf-8")


def encode(text: str) -> bytes:
    # surrogatepass, then repair: a lone surrogate in an editor buffer must not make analysis fail.
    return valid_utf8(text.encode("utf-8", "surrogatepass"))


def _imports(root: Node) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for child in root.named_children:
        if child.type == "import_statement":
            for n in child.named_children:
                target = n.child_by_field_name("name") if n.type == "aliased_import" else n
                if target is not None and target.text is not None:
                    seen[node_text(target)] = None
        elif child.type == "import_from_statement":
            module = child.child_by_field_name("module_name")
            if module is not None and module.text is not None:
                seen[node_text(module)] = None
    return tuple(seen)


def _bucket(root: Node, tops: list[Node], query: Query) -> list[list[tuple[int, dict[str, list[Node]]]]]:
    """The query's matches over the whole file, split by the top-level statement that holds them."""
    starts = [t.start_byte for t in tops]
    buckets: list[list[tuple[int, dict[str, list[Node]]]]] = [[] for _ in tops]
    for match in QueryCursor(query).matches(root):
        first = next(iter(match[1].values()))[0]
        i = bisect.bisect_right(starts, first.start_byte) - 1
        if i >= 0:
            buckets[i].append(match)
    return buckets


class Pipeline:
    """Runs the language's per-statement reader and linker, keeping the last run's statement facts."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._cache: dict[Hashable, object] = {}
        self._sites = python.SiteMemo()

    def run(self, tree: Tree, source: bytes, path: str) -> AnalysisResult:
        try:
            return self._run(tree, source, path)
        except Exception as exc:  # analysis must never take the editor down; say what happened instead
            self._cache = {}
            return internal_error(path, self.language, exc)

    def _run(self, tree: Tree, source: bytes, path: str) -> AnalysisResult:
        root = tree.root_node
        cols = ByteColumns(source)
        cache: dict[Hashable, object] = {}
        bases: list[int] = []
        if self.language is Language.PYTHON:
            aliases = python.top_level_aliases(root)
            tops = root.children
            old = self._cache
            keys: list[Hashable] = []
            found: list[python.StatementFacts | None] = []
            missing = 0
            for top in tops:
                start = top.start_point
                bases.append(start.row)
                key = (top.type, start.column, source[top.start_byte - start.column : top.end_byte], aliases)
                keys.append(key)
                facts = None if top.has_error else old.get(key) or cache.get(key)
                if isinstance(facts, python.StatementFacts):
                    cache[key] = facts
                    found.append(facts)
                else:
                    found.append(None)
                    missing += 1
            # Many statements to read (a first analysis): one query over the file beats one per statement.
            buckets = _bucket(root, tops, python.query_for(aliases, source)) if missing > 16 else None
            statements: list[python.StatementFacts] = []
            for i, top in enumerate(tops):
                facts = found[i]
                if facts is None:
                    matches = None
                    if buckets:
                        # Drop each statement's matches once read: thousands of match objects that
                        # outlive their use get promoted and rescanned by the cyclic GC.
                        matches, buckets[i] = buckets[i], []
                    facts = python.statement_facts(top, cols, aliases, source, matches)
                    if not top.has_error:
                        cache[keys[i]] = facts
                statements.append(facts)
            self._cache = cache
            sites, findings = python.link(statements, bases, path, self._sites)
            error = syntax.syntax_error(root, source, cols)
            if error is not None:
                findings.append(error)
                findings.sort(key=lambda x: (x.range.start.line, x.range.start.character, x.rule))
            return AnalysisResult(path, self.language, tuple(sites), tuple(findings), _imports(root))
        units: list[cuda.UnitFacts] = []
        for top in cuda.top_nodes(root):
            ckey = (
                top.type,
                top.start_point.column,
                source[top.start_byte - top.start_point.column : top.end_byte],
            )
            unit = None if top.has_error else self._cache.get(ckey) or cache.get(ckey)
            if not isinstance(unit, cuda.UnitFacts):
                unit = cuda.unit_facts(top, cols)
            if not top.has_error:
                cache[ckey] = unit
            units.append(unit)
            bases.append(top.start_point.row)
        self._cache = cache
        csites, cfindings = cuda.link(units, bases, SiteKind.CUDA_KERNEL, None)
        return AnalysisResult(path, self.language, tuple(csites), tuple(cfindings))


def clear_caches() -> None:
    """Forget the process-wide caches of read directives and expressions (for cold-start measurements)."""
    python.clear_caches()
    cuda.clear_caches()
    directives.clear_caches()


def internal_error(path: str, language: Language, exc: BaseException) -> AnalysisResult:
    """A result that reports an analysis bug as a finding instead of raising it."""
    return AnalysisResult(
        path,
        language,
        findings=(
            finding(
                RuleId.ANALYSIS_ERROR,
                Range.of(0, 0, 0, 0),
                f"kernelwright could not analyse this file ({type(exc).__name__}: {exc}); "
                "please report it with the file",
            ),
        ),
    )


def analyze(source: str | bytes, path: str, language: Language | None = None) -> AnalysisResult:
    """Sites, specs and findings of one file. Never raises."""
    lang = language or language_for(path) or Language.PYTHON
    try:
        data = encode(source) if isinstance(source, str) else valid_utf8(bytes(source))
        tree = parser_for(lang).parse(data)
    except Exception as exc:
        return internal_error(path, lang, exc)
    return Pipeline(lang).run(tree, data, path)
