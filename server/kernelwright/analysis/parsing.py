"""tree-sitter languages, parsers and the queries both language modules run."""

from __future__ import annotations

import tree_sitter_cuda
import tree_sitter_python
from tree_sitter import Language as TSLanguage
from tree_sitter import Parser, Query

from kernelwright.core.site import Language

PYTHON = TSLanguage(tree_sitter_python.language())
CUDA = TSLanguage(tree_sitter_cuda.language())

# One query per language, run per top-level definition: everything the detectors look at, found in C.
PYTHON_QUERY = Query(
    PYTHON,
    """
    (call function: (_) @callee arguments: (argument_list) @args) @call
    (for_statement left: (_) @for.left right: (_) @for.right) @for
    (function_definition) @func
    (class_definition) @class
    (comment) @comment
    (assignment left: (identifier) @assign.left right: (_) @assign.right) @assign
    (augmented_assignment left: (identifier) @assign.left right: (_) @assign.right) @assign
    (attribute attribute: (identifier) @f64 (#eq? @f64 "float64"))
    (string) @string
    """,
)

CUDA_QUERY = Query(
    CUDA,
    """
    (function_definition) @func
    (comment) @comment
    (call_expression function: (identifier) @call.name) @call
    (subscript_expression argument: (_) @sub.arg indices: (_) @sub.index) @sub
    (number_literal) @number
    (primitive_type) @type
    (field_expression argument: (identifier) @builtin field: (field_identifier))
    (binary_expression operator: ["<" "<=" ">" ">=" "==" "!="]) @compare
    (if_statement condition: (_) @if.cond) @if
    (init_declarator declarator: (identifier) @decl.name value: (_) @decl.value)
    (assignment_expression left: (identifier) @decl.name right: (_) @decl.value)
    """,
)


def parser_for(language: Language) -> Parser:
    """A fresh parser (parsers are not shared: a DocumentAnalysis keeps its own for incremental parses)."""
    return Parser(PYTHON if language is Language.PYTHON else CUDA)
