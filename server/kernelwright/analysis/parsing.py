"""tree-sitter languages, parsers, the queries both language modules run, and `node_text`.

Every query is compiled on first use and cached, never at import: compiling one costs about 0.6 ms
against the Python grammar and 9 ms against the CUDA (C++) one before its patterns add anything (16-24 ms
for the CUDA query below), so a scan of a Python file must not pay for CUDA's queries, nor a start-up
for either (benchmarks/BENCHMARKS.md, "Scan cost").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache, lru_cache

import tree_sitter_python
from tree_sitter import Language as TSLanguage
from tree_sitter import Node, Parser, Query

from kernelwright.core.site import Language

PYTHON = TSLanguage(tree_sitter_python.language())  # cheap: a pointer to the grammar's static tables


def node_text(node: Node | None) -> str:
    """A node's source text (invalid UTF-8 replaced); "" for no node. Every reader of analysis uses it."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


# Call names some detector looks at (methods, torch/triton functions, load_inline). Filtering them in the
# query keeps the thousands of uninteresting calls of a big file out of Python entirely.
INTERESTING_CALLS = [
    "item",
    "cpu",
    "tolist",
    "numpy",
    "synchronize",
    "zeros",
    "zeros_like",
    "ones",
    "empty",
    "full",
    "rand",
    "randn",
    "randint",
    "arange",
    "tensor",
    "eye",
    "load",
    "store",
    "make_block_ptr",
    "atomic_add",
    "atomic_max",
    "atomic_min",
    "atomic_cas",
    "atomic_xchg",
    "atomic_and",
    "atomic_or",
    "atomic_xor",
    "load_inline",
]


def _any_of(capture: str, names: Sequence[str]) -> str:
    return f"(#any-of? @{capture} {' '.join(json.dumps(n) for n in names)})"


@lru_cache(maxsize=32)
def python_query(extra_names: tuple[str, ...] = (), float64: bool = True, cuda_strings: bool = True) -> Query:
    """The Python query; `extra_names` are local aliases of interesting functions (`load_inline as li`).

    `float64` and `cuda_strings` keep the patterns that need that text: a file without `float64` or
    without `__global__`/`__device__` cannot match them, and their predicates run on every attribute
    and string of the file."""
    names = INTERESTING_CALLS + list(extra_names)
    f64 = '(attribute attribute: (identifier) @f64 (#eq? @f64 "float64"))' if float64 else ""
    strings = '((string) @string (#match? @string "__global__|__device__"))' if cuda_strings else ""
    return Query(
        PYTHON,
        f"""
        (call function: (subscript value: (identifier)) @callee arguments: (argument_list) @args) @call
        ((call function: (attribute attribute: (identifier) @method) @callee
               arguments: (argument_list) @args) @call {_any_of("method", names)})
        ((call function: (identifier) @fname @callee arguments: (argument_list) @args) @call
         {_any_of("fname", names)})
        (for_statement left: (_) @for.left right: (_) @for.right) @for
        ((comment) @comment (#match? @comment "^#[ \t]*kernelwright"))
        {f64}
        {strings}
        """,
    )


@cache
def cuda_language() -> TSLanguage:
    """The CUDA grammar, imported on first use (a Python-only scan never loads it)."""
    import tree_sitter_cuda

    return TSLanguage(tree_sitter_cuda.language())


@cache
def assign_query() -> Query:
    """Assignments inside a Triton kernel: which names derive from tl.arange (for the mask rule)."""
    return Query(
        PYTHON,
        """
        (assignment left: (identifier) @left right: (_) @right)
        (augmented_assignment left: (identifier) @left right: (_) @right)
        """,
    )


@cache
def cuda_query() -> Query:
    """Everything the CUDA reader looks at, in one query."""
    return Query(
        cuda_language(),
        """
        (function_definition) @func
        (comment) @comment
        (call_expression function: (identifier) @call.name) @call
        (subscript_expression argument: (_) @sub.arg indices: (_) @sub.index) @sub
        ((number_literal) @number (#match? @number "^([0-9]*[.][0-9]*|[0-9.]+[eE][-+]?[0-9]+)$"))
        ((primitive_type) @type (#eq? @type "double"))
        (binary_expression operator: ["<" "<=" ">" ">=" "==" "!="]) @compare
        (init_declarator declarator: (identifier) @decl.name value: (_) @decl.value)
        (assignment_expression left: (identifier) @decl.name right: (_) @decl.value)
        """,
    )


def parser_for(language: Language) -> Parser:
    """A fresh parser (parsers are not shared: a DocumentAnalysis keeps its own for incremental parses)."""
    return Parser(PYTHON if language is Language.PYTHON else cuda_language())
