"""Source text -> sites, bench specs and static findings, with tree-sitter. Pure: no torch, no pygls.

analyze(source, path, language=None) -> AnalysisResult      one file, from scratch
DocumentAnalysis(path, text).apply_changes(changes, version) an open document, incrementally
language_for(path) -> Language | None
kernelwright.analysis.rules.RULES                             the catalogue of findings
"""

from kernelwright.analysis.document import DocumentAnalysis
from kernelwright.analysis.pipeline import analyze, language_for

__all__ = ["DocumentAnalysis", "analyze", "language_for"]
