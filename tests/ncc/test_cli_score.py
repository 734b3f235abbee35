"""`ncc score` / `ncc evaluate` end to end on tiny generated data, and every whole-input error."""
from __future__ import annotations

import csv
import json
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from ncc.cli import app
from ncc.formats import write_anls, write_cepc, write_tuebingen, write_two_column
from tests.ncc.helpers import one_line_error, read_csv_rows

runner = CliRunner()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A tiny, randomly initialised model saved through the public API."""
    import torch

    import ncc
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    net = NCC(NCCConfig(embed_dim=8, classifier_dim=8)).eval()
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    ncc.save(net, path)
    return path


def _pairs(k=8, n=60, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(k):
        x = rng.normal(size=n)
        y = np.tanh(x) + 0.2 * rng.uniform(-1, 1, n)
        out.append(np.c_[x, y] if i % 2 == 0 else np.c_[y, x])
    return out, [1 - i % 2 for i in range(k)]






def _bad_folder(tmp_path):
    pairs, truths = _pairs()
    pairs[1] = pairs[1].copy()
    pairs[1][[2, 5, 9]] = np.nan  # NaN rows: dropped
    pairs[2] = pairs[2].copy()
    pairs[2][:, 0] = 4.0  # constant
    pairs[3] = pairs[3][:6]  # too few points
    folder = tmp_path / "tub"
    write_tuebingen(folder, pairs, truths, weights=[1, 2, 1, 1, 1, 0.5, 1, 1])
    (folder / "pair0005.txt").write_text("1 2\n3 x\n")
    (folder / "pair0006.txt").write_text("1 2 3\n4 5 6\n")
    meta = (folder / "pairmeta.txt").read_text().splitlines()
    meta[5] = "0006 1 2 3 3 0.5"
    (folder / "pairmeta.txt").write_text("\n".join(meta) + "\n")
    (folder / "pair0007.txt").write_text("")
    return folder


# ----------------------------------------------------------------------------- ncc score
def test_score_end_to_end_with_bad_pairs(tmp_path, model_file):
    folder = _bad_folder(tmp_path)
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["score", str(folder), "--model", str(model_file), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv_rows(out)
    # Issue 10 appended the three answers; the first five columns are unchanged.
    assert list(rows[0]) == ["pair_id", "score", "direction", "n_points", "status", "p_xy", "p_yx", "p_none"]
    by_id = {r["pair_id"]: r for r in rows}
    assert len(rows) == 8
    assert by_id["pair0002"]["status"] == "ok (dropped 3 non-finite rows)" and by_id["pair0002"]["n_points"] == "57"
    assert by_id["pair0003"]["status"].startswith("constant") and float(by_id["pair0003"]["score"]) == 0.5
    assert by_id["pair0004"]["status"].startswith("too_few_points") and by_id["pair0004"]["score"] == ""
    assert by_id["pair0004"]["p_none"] == by_id["pair0005"]["p_xy"] == ""  # failed pairs: empty, as score
    assert float(by_id["pair0003"]["p_none"]) == 0.5  # constant: no information either way
    assert by_id["pair0005"]["status"].startswith("non_numeric")
    assert by_id["pair0006"]["status"].startswith("multivariate")
    assert by_id["pair0007"]["status"] == "empty_file"
    for pid in ("pair0001", "pair0002", "pair0008"):
        s = float(by_id[pid]["score"])
        assert 0.0 <= s <= 1.0
        assert by_id[pid]["direction"] == ("->" if s > 0.5 else "<-")
    prov = json.loads((tmp_path / "scores.csv.json").read_text())
    import hashlib

    assert prov["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert prov["format"] == "tuebingen" and prov["ncc_version"]
    assert prov["status_counts"]["ok"] == 3


def test_score_matches_the_python_api(tmp_path, model_file):
    import ncc

    pairs, _ = _pairs(k=3)
    write_anls(tmp_path / "anls", pairs)
    out = tmp_path / "s.csv"
    assert runner.invoke(app, ["score", str(tmp_path / "anls"), "-m", str(model_file), "-o", str(out)]).exit_code == 0
    expected = ncc.score_pairs(pairs, model=ncc.load(model_file))
    got = [float(r["score"]) for r in read_csv_rows(out)]
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("fmt", ["cepc", "two-column", "anls", "tuebingen"])
def test_score_every_format(tmp_path, model_file, fmt):
    pairs, truths = _pairs(k=2)
    if fmt == "cepc":
        target = tmp_path / "d_pairs.csv"
        write_cepc(target, ["s1", "s2"], pairs)
        ids = ["s1", "s2"]
    elif fmt == "two-column":
        target = tmp_path / "one.csv"
        write_two_column(target, pairs[0], header=["a", "b"])
        ids = ["one"]
    elif fmt == "anls":
        target = tmp_path / "an"
        ids = write_anls(target, pairs, truths)
    else:
        target = tmp_path / "tb"
        ids = write_tuebingen(target, pairs, truths)
    for extra in ([], ["--format", fmt]):
        result = runner.invoke(app, ["score", str(target), "-m", str(model_file), *extra])
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(result.stdout.splitlines()))
        assert [r["pair_id"] for r in rows] == ids and all(r["status"] == "ok" for r in rows)


def test_score_never_reads_the_truth(tmp_path, model_file):
    pairs, _ = _pairs(k=2)
    write_cepc(tmp_path / "d_pairs.csv", ["a", "b"], pairs)
    (tmp_path / "d_targets.csv").write_text("SampleID,Target\na,banana\n")  # would break a truth reader
    result = runner.invoke(app, ["score", str(tmp_path / "d_pairs.csv"), "-m", str(model_file)])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["evaluate", str(tmp_path / "d_pairs.csv"), "-m", str(model_file)])
    assert "banana" in one_line_error(bad)


# ----------------------------------------------------------------------------- whole-input errors
def test_unknown_format_lists_the_formats(tmp_path, model_file):
    f = tmp_path / "p.txt"
    f.write_text("1 2\n3 4\n")
    line = one_line_error(runner.invoke(app, ["score", str(f), "--format", "hdf5", "-m", str(model_file)]))
    for name in ("cepc", "tuebingen", "anls", "two-column"):
        assert name in line


def test_missing_input(tmp_path, model_file):
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "nothing"), "-m", str(model_file)]))
    assert "nothing" in line


def test_missing_model_file(tmp_path):
    write_two_column(tmp_path / "p.csv", _pairs(k=1)[0][0])
    missing = tmp_path / "nope.safetensors"
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "p.csv"), "--model", str(missing)]))
    assert str(missing) in line


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 10, b'{"not": "safetensors"}'])
def test_corrupt_model_file(tmp_path, content):
    pairs, truths = _pairs(k=2)
    write_tuebingen(tmp_path / "t", pairs, truths)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    for cmd in ("score", "evaluate"):
        line = one_line_error(runner.invoke(app, [cmd, str(tmp_path / "t"), "--model", str(bad)]))
        assert str(bad) in line


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
@pytest.mark.parametrize("name", ["evil.pt", "evil.safetensors"])
def test_pickle_model_is_refused_and_never_runs(tmp_path, how, name, marker_payload):
    import torch

    marker = tmp_path / "PWNED"
    evil = tmp_path / name
    if how == "pickle":
        evil.write_bytes(pickle.dumps(marker_payload(marker)))
    else:
        torch.save({"state": marker_payload(marker)}, evil)
    assert not marker.exists()
    write_two_column(tmp_path / "p.csv", _pairs(k=1)[0][0])
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "p.csv"), "--model", str(evil)]))
    assert str(evil) in line and "pickle" in line
    assert not marker.exists()


# ----------------------------------------------------------------------------- ncc evaluate
def test_evaluate_table_and_json(tmp_path, model_file):
    folder = _bad_folder(tmp_path)
    args = ["evaluate", str(folder), "-m", str(model_file), "--seed", "3", "--n-boot", "200"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("NCC", "IGCI", "ANM-HSIC", "RECI", "accuracy", "weighted acc.", "AUC", "95% CI"):
        assert name in result.stdout
    assert "weighted by pairmeta weights" in result.stdout
    res_json = runner.invoke(app, [*args, "--json"])
    report = json.loads(res_json.stdout)
    # pairs 1, 2, 3 (constant: 0.5 for every method) and 8 have truth and can be scored
    assert report["n_pairs"] == 4 and report["seed"] == 3
    assert report["skipped"] == {"too_few_points": 1, "non_numeric": 1, "multivariate": 1, "empty_file": 1}
    for name in ("NCC", "IGCI", "ANM-HSIC", "RECI"):
        m = report["metrics"][name]
        assert m["n_pairs"] == 4 and 0 <= m["accuracy"] <= 1 and m["ci_low"] <= m["weighted_accuracy"] <= m["ci_high"]
    again = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert again["metrics"] == report["metrics"]  # seeded


def test_evaluate_cepc_with_targets_and_baseline_choice(tmp_path, model_file):
    pairs, truths = _pairs(k=6)
    write_cepc(tmp_path / "x_pairs.csv", [f"p{i}" for i in range(6)], pairs, tmp_path / "x_targets.csv", truths=truths)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "x_pairs.csv"), "-m", str(model_file),
                                 "--baselines", "IGCI", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {"NCC", "IGCI"} and report["n_pairs"] == 6


def test_evaluate_needs_truth(tmp_path, model_file):
    write_tuebingen(tmp_path / "t", _pairs(k=2)[0])  # no pairmeta.txt
    line = one_line_error(runner.invoke(app, ["evaluate", str(tmp_path / "t"), "-m", str(model_file)]))
    assert "ground truth" in line


def test_evaluate_unknown_baseline(tmp_path, model_file):
    pairs, truths = _pairs(k=2)
    write_tuebingen(tmp_path / "t", pairs, truths)
    line = one_line_error(runner.invoke(app, ["evaluate", str(tmp_path / "t"), "-m", str(model_file),
                                               "--baselines", "IGCI,LiNGAM"]))
    assert "LiNGAM" in line and "RECI" in line


def test_default_model_is_the_shipped_file(tmp_path, model_file, monkeypatch):
    import ncc.cli_score as cli_score

    pairs, _ = _pairs(k=2)
    write_anls(tmp_path / "an", pairs)
    monkeypatch.setattr(cli_score, "_shipped_model_file", lambda: model_file)
    out = tmp_path / "s.csv"
    assert runner.invoke(app, ["score", str(tmp_path / "an"), "-o", str(out)]).exit_code == 0
    prov = json.loads((tmp_path / "s.csv.json").read_text())
    assert prov["model"] == "shipped default" and prov["path"] == str(model_file)
    monkeypatch.setattr(cli_score, "_shipped_model_file", lambda: None)
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "an")]))
    assert "--model" in line


# ----------------------------------------------------------------------------- issue 11: messages
@pytest.mark.parametrize("where", ["directory", "under_a_file"])
def test_unwritable_score_output_is_one_line_before_scoring(tmp_path, model_file, where):
    f = tmp_path / "p.csv"
    write_two_column(f, _pairs(1)[0][0])
    (tmp_path / "blocker").write_text("x")
    out = {"directory": tmp_path, "under_a_file": tmp_path / "blocker" / "s.csv"}[where]
    line = one_line_error(runner.invoke(app, ["score", str(f), "-m", str(model_file), "-o", str(out)]))
    assert "--output" in line and str(out) in line
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_late_score_write_failure_is_one_line_and_leaves_no_tmp(tmp_path, model_file, monkeypatch):
    import synthetic._atomic  # the one atomic writer, which ncc score writes through

    f = tmp_path / "p.csv"
    write_two_column(f, _pairs(1)[0][0])
    out = tmp_path / "s.csv"

    def broken_replace(src, dst):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(synthetic._atomic.os, "replace", broken_replace)
    line = one_line_error(runner.invoke(app, ["score", str(f), "-m", str(model_file), "-o", str(out)]))
    assert f"cannot write {out}" in line and "Read-only" in line
    assert not [p for p in tmp_path.rglob("*.tmp")]
