"""Python files: torch modules, Triton kernels and launchers, bench directives, inline CUDA, findings.

The entry the pipeline calls; the work is done in two phases, each in its own module:

1. `statement_facts` (python_statement.py) reads ONE top-level statement into facts whose lines count
   from the statement's first line; it depends only on the statement's text (from the start of its first
   line) and the file's import aliases (`top_level_aliases`), so incremental re-analysis caches it by that
   key. python_functions.py collects each function's facts (and a Triton kernel's own findings) for it;
   the records themselves are in python_facts.py.
2. `link` (python_link.py) then combines the facts of all statements: which classes are Modules, which
   functions launch which kernels, where the directives point, and which candidate findings apply where.
   Linking is cheap: no tree walks.
"""

from kernelwright.analysis.python_facts import StatementFacts
from kernelwright.analysis.python_link import SiteMemo, clear_caches, link
from kernelwright.analysis.python_statement import query_for, statement_facts, top_level_aliases

__all__ = [
    "SiteMemo",
    "StatementFacts",
    "clear_caches",
    "link",
    "query_for",
    "statement_facts",
    "top_level_aliases",
]
