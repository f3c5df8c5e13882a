"""Literal values read out of a syntax tree, for the selection rules that read
declarations (`py_modules`, `entry_points`, `package_dir`) without running them."""

from __future__ import annotations

import ast


def parse(text: str) -> ast.Module | None:
    """`text` parsed, or None when `ast` rejects it (py2 syntax, garbage, too deep)."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def literal_str(node: ast.expr | None) -> str | None:
    """The value of a string constant, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def literal_strings(node: ast.expr) -> list[str]:
    """The string constants of a list or tuple display."""
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else []
    return [v for v in map(literal_str, items) if v is not None]
