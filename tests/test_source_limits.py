"""Small modules and short functions: no source file over MAX_FILE_LINES lines, no function
(or method) over MAX_FUNCTION_LINES lines, counted from its ``def`` (decorators and signature
included) to its last line. Extend PACKAGES to bring another package under the same limits."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ncc", "synthetic", "vision")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def _sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function longer than ``limit`` lines."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}."
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                length = child.end_lineno - first + 1
                if length > limit:
                    found.append((name[:-1], first, length))
            visit(child, name)

    visit(ast.parse(source), "")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_file_over_the_limit(package):
    too_long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _sources(package)
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    assert not too_long, f"files over {MAX_FILE_LINES} lines: " + "; ".join(too_long)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_over_the_limit(package):
    too_long = [f"{p.relative_to(ROOT)}:{line} {name}: {n} lines" for p in _sources(package)
                for name, line, n in long_functions(p.read_text(encoding="utf-8"))]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: " + "; ".join(too_long)


def test_the_counter_sees_nested_and_decorated_functions():
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = f"class A:\n    @staticmethod\n    def long():\n{body}\n    def short():\n        pass\n"
    assert long_functions(source) == [("A.long", 2, MAX_FUNCTION_LINES + 2)]
    assert long_functions("def f():\n    return 1\n") == []
