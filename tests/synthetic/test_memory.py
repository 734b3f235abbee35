"""``ncc generate`` refuses runs that cannot fit in memory, before generating (issue 11, case 16)."""
import time

import pytest
from typer.testing import CliRunner

import synthetic.memory
from ncc.cli import app
from synthetic.memory import check_memory, estimate_bytes

runner = CliRunner()


def test_a_billion_points_is_refused_at_once(tmp_path):
    start = time.perf_counter()
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "p.npz"), "--n-pairs", "10",
                                 "--n-points", "1000000000"])
    assert result.exit_code == 2 and time.perf_counter() - start < 10
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error:") and "--n-points 1000000000" in line and "GiB" in line
    assert not (tmp_path / "p.npz").exists()


def test_the_estimate_follows_the_options(monkeypatch):
    assert estimate_bytes(1000, 1000, "npz") < estimate_bytes(1000, 1000, "cepc")
    assert estimate_bytes(1000, (100, 1500), "npz") < estimate_bytes(1000, 1500, "npz")
    monkeypatch.setattr(synthetic.memory, "available_bytes", lambda: 10**9)
    check_memory(1000, 1000, "npz")  # ~32 MB: fine
    with pytest.raises(ValueError, match="--n-pairs 100000 with --n-points 1000"):
        check_memory(100_000, 1000, "npz")  # ~3.2 GB
    monkeypatch.setattr(synthetic.memory, "available_bytes", lambda: None)
    check_memory(10**6, 10**6, "npz")  # unknown machine: no refusal
