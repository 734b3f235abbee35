"""The packages form one-way layers: synthetic (numpy/scipy) <- ncc <- vision.

Two checks per lower layer: importing every one of its modules in a fresh interpreter loads no
module of a higher layer (what runs at import time), and no import statement anywhere in its
source names a higher layer (what a function would import later, lazily).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("synthetic", "ncc", "vision")  # lowest first
HIGHER = {name: LAYERS[i + 1:] for i, name in enumerate(LAYERS)}

# Runs in a fresh interpreter: import the package and all its modules, then list which layers got loaded.
# Entry points of the "ncc.commands" group are hidden: they are how vision plugs into the ncc command
# (declared in pyproject.toml), not an import that ncc's code makes.
_PROBE = """
import importlib, importlib.metadata as md, json, pkgutil, sys
_real = md.entry_points
def _no_commands(**kw):
    return [] if kw.get("group") == "ncc.commands" else _real(**kw)
md.entry_points = _no_commands
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("package", LAYERS)
def test_importing_a_layer_loads_no_higher_layer(package):
    done = subprocess.run([sys.executable, "-c", _PROBE, package], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert package in loaded
    assert not loaded & set(HIGHER[package]), f"importing {package} loaded {sorted(loaded & set(HIGHER[package]))}"


def _imported_roots(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value.split(".")[0]


@pytest.mark.parametrize("package", [p for p in LAYERS if HIGHER[p]])
def test_no_import_statement_of_a_lower_layer_names_a_higher_one(package):
    offences = [f"{path.relative_to(ROOT)}:{line} imports {root}"
                for path in sorted((ROOT / package).rglob("*.py"))
                for line, root in _imported_roots(ast.parse(path.read_text(encoding="utf-8")))
                if root in HIGHER[package]]
    assert not offences, "\n".join(offences)


def test_the_ast_scan_sees_lazy_and_dynamic_imports():
    source = "def f():\n    import vision.cli\n    from ncc import x\n    importlib.import_module('vision.x')\n"
    assert [root for _, root in _imported_roots(ast.parse(source))] == ["vision", "ncc", "vision"]
