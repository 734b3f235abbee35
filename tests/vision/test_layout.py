"""issue 9: vision stays made of small modules and short functions (checked with ast, not by eye)."""
import ast
from pathlib import Path

import pytest

VISION = Path(__file__).resolve().parents[2] / "vision"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
SOURCES = sorted(VISION.rglob("*.py"))


def test_vision_sources_are_found():
    assert len(SOURCES) > 10 and VISION / "annotations" / "coco.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(VISION)))
def test_no_file_or_function_is_too_long(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_FILE_LINES, f"{path}: {len(text.splitlines())} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(ast.parse(text, filename=str(path)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"
