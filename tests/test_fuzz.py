"""The hostile-input corpus of benchmarks/fuzz.py, replayed in CI (issue 11): every command ends
with exit code 0 or 2, one error line, no traceback, nothing outside its output touched, under
2 GB of memory and a time limit."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _fuzz():
    spec = importlib.util.spec_from_file_location("bench_fuzz", ROOT / "benchmarks" / "fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_hostile_corpus(tmp_path):
    results = _fuzz().run_corpus(tmp_path, time_limit=120)
    assert len(results) >= 25
    failed = {name: problems for name, problems in results.items() if problems}
    assert not failed, failed
