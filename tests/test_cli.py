"""The `ncc` CLI through typer's CliRunner: generate, plot-pairs, and the whole
generate -> train -> score -> evaluate path."""
import numpy as np
import pytest
from typer.testing import CliRunner

from ncc.cli import app
from ncc.formats import read_cepc, read_tuebingen
from synthetic import make_pairs
from synthetic.io import load

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _assert_bad_input(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_generate_npz_matches_python_api(tmp_path):
    out = tmp_path / "pairs.npz"
    result = _run("generate", "--n-pairs", 12, "--n-points", 80, "--mechanism", "mix",
                  "--cause", "mix", "--kinds", "causal,independent", "--seed", 7, "--out", out)
    assert result.exit_code == 0, result.output
    assert "wrote 12 pairs" in result.output
    saved = load(out)
    X, y = make_pairs(12, n_points=80, mechanism="mix", cause="mix",
                      kinds="causal,independent", random_state=7)
    assert np.array_equal(saved.X, X) and np.array_equal(saved.y, y)
    assert saved.random_state == 7 and saved.config["mechanism"] == "mix"
    assert set(saved.info["kind"]) <= {"causal", "independent"}


def test_generate_ragged_with_progress_and_weights(tmp_path):
    out = tmp_path / "r.npz"
    result = _run("generate", "--n-pairs", 5, "--n-points", "10:50", "--mechanism", "mix",
                  "--mechanism-weights", "nn=1,linear=2", "--discretize-prob", 0.5,
                  "--progress", "--out", out)
    assert result.exit_code == 0, result.output
    saved = load(out)
    assert all(10 <= len(p) <= 50 for p in saved.X)
    assert set(saved.info["mechanism"]) <= {"nn", "linear"}


def test_generate_cepc(tmp_path):
    result = _run("generate", "--n-pairs", 4, "--n-points", 30, "--kinds", "causal,confounded",
                  "--format", "cepc", "--out", tmp_path / "set")
    assert result.exit_code == 0, result.output
    records = read_cepc(tmp_path / "set_pairs.csv", tmp_path / "set_targets.csv")
    assert len(records) == 4 and all(r.data.shape == (30, 2) for r in records)
    assert (tmp_path / "set_meta.json").is_file()


def test_generate_tuebingen(tmp_path):
    result = _run("generate", "--n-pairs", 3, "--n-points", 25, "--format", "tuebingen",
                  "--out", tmp_path / "tb")
    assert result.exit_code == 0, result.output
    records = read_tuebingen(tmp_path / "tb", with_truth=True)
    _, y = make_pairs(3, n_points=25, random_state=0)
    assert [r.truth for r in records] == y.tolist()


@pytest.mark.parametrize("args, fragments", [
    (["--mechanism", "foo"], ["unknown mechanism 'foo'", "valid: spline, linear", "mix"]),
    (["--kinds", "causal,weird"], ["unknown kind 'weird'", "causal, independent, confounded"]),
    (["--cause", "beta"], ["unknown cause 'beta'", "gmm"]),
    (["--n-pairs", "0"], ["n_pairs must be >= 1"]),
    (["--n-points", "1"], ["n_points must be >= 2"]),
    (["--n-points", "1:10"], ["n_points must be >= 2"]),
    (["--n-points", "10:5"], ["malformed n_points range 10:5"]),
    (["--n-points", "5:"], ["malformed n_points '5:'"]),
    (["--n-points", "a:b"], ["malformed n_points 'a:b'"]),
    (["--format", "parquet"], ["unknown format 'parquet'", "npz, cepc, tuebingen"]),
    (["--mechanism", "mix", "--mechanism-weights", "nn"], ["malformed --mechanism-weights"]),
    (["--seed", "-1"], ["seed must be in"]),
    (["--format", "tuebingen", "--kinds", "causal,independent"], ["tuebingen format cannot store"]),
])
def test_generate_bad_input(tmp_path, args, fragments):
    _assert_bad_input(_run("generate", *args, "--out", tmp_path / "o.npz"), *fragments)
    assert not (tmp_path / "o.npz").exists()


def test_generate_unwritable_output(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    _assert_bad_input(_run("generate", "--n-pairs", 2, "--out", blocker / "o.npz"),
                      "cannot write to", "is not a folder")
    _assert_bad_input(_run("generate", "--n-pairs", 2, "--out", tmp_path), "it is a folder")
    _assert_bad_input(_run("generate", "--n-pairs", 2, "--format", "tuebingen", "--out", blocker),
                      "not a folder")


def test_plot_pairs(tmp_path):
    data = tmp_path / "p.npz"
    assert _run("generate", "--n-pairs", 6, "--n-points", 40, "--mechanism", "mix",
                "--out", data).exit_code == 0
    out = tmp_path / "grid.png"
    result = _run("plot-pairs", data, "--out", out, "--n", 4)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_pairs_bad_input(tmp_path):
    data = tmp_path / "p.npz"
    _run("generate", "--n-pairs", 2, "--n-points", 10, "--out", data)
    _assert_bad_input(_run("plot-pairs", tmp_path / "missing.npz", "--out", tmp_path / "g.png"),
                      "no such file")
    (tmp_path / "junk.npz").write_text("junk")
    _assert_bad_input(_run("plot-pairs", tmp_path / "junk.npz", "--out", tmp_path / "g.png"),
                      "not a readable .npz")
    _assert_bad_input(_run("plot-pairs", data, "--out", tmp_path / "g.png", "--n", 0), "--n must be >= 1")
    blocker = tmp_path / "f"
    blocker.write_text("x")
    _assert_bad_input(_run("plot-pairs", data, "--out", blocker / "g.png"), "is not a folder")


def test_generate_train_score_evaluate_end_to_end(tmp_path):
    """The whole user path on tiny data: generate -> train -> score -> evaluate."""
    import csv
    import json

    pairs = tmp_path / "pairs"
    model = tmp_path / "tiny.safetensors"
    scores = tmp_path / "scores.csv"
    result = _run("generate", "--n-pairs", 24, "--n-points", 60, "--mechanism", "sigmoid_additive",
                  "--seed", 3, "--format", "tuebingen", "--out", pairs)
    assert result.exit_code == 0, result.output
    result = _run("train", "--steps", 30, "--batch-size", 8, "--embed-dim", 8, "--classifier-dim", 8,
                  "--heldout", 20, "--eval-every", 30, "--n-points", "40:80", "--threads", 1,
                  "--no-progress", "--seed", 0, "--output", model)
    assert result.exit_code == 0, result.output
    assert json.loads(model.with_suffix(".json").read_text())["steps"] == 30

    result = _run("score", pairs, "--model", model, "--output", scores)
    assert result.exit_code == 0, result.output
    with open(scores, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["pair_id"] for r in rows] == [f"pair{i:04d}" for i in range(1, 25)]
    assert all(r["status"] == "ok" and 0.0 <= float(r["score"]) <= 1.0 for r in rows)
    assert all(r["direction"] == ("->" if float(r["score"]) > 0.5 else "<-") for r in rows)

    result = _run("evaluate", pairs, "--model", model, "--baselines", "IGCI", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["n_pairs"] == 24 and set(report["metrics"]) == {"NCC", "IGCI"}
    # evaluate's NCC accuracy must agree with the scores written by `ncc score` and the true directions.
    truth = {f"pair{i:04d}": d for i, d in enumerate(_tuebingen_directions(pairs), 1)}
    correct = [(float(r["score"]) > 0.5) == truth[r["pair_id"]] for r in rows]
    assert report["metrics"]["NCC"]["accuracy"] == pytest.approx(np.mean(correct))


def _tuebingen_directions(folder):
    """True when column 1 causes column 2, from pairmeta.txt."""
    lines = (folder / "pairmeta.txt").read_text().split("\n")
    return [line.split()[1] == "1" for line in lines if line.strip()]


def test_ctrl_c_during_start_up_is_one_line_and_exit_130(monkeypatch, capsys):
    import builtins

    import pytest

    from ncc import _entry

    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == "ncc.cli":
            raise KeyboardInterrupt  # as if Ctrl-C landed while the CLI (torch, typer) was importing
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    with pytest.raises(SystemExit) as exc:
        _entry.main()
    assert exc.value.code == 130
    assert capsys.readouterr().err == "ncc: interrupted\n"


# ----------------------------------------------------------------------------- issue 10: the first hour
def test_generate_overwrite_makes_the_quickstart_rerunnable(tmp_path):
    out = tmp_path / "demo"
    assert _run("generate", "--n-pairs", 5, "--n-points", 20, "--format", "tuebingen", "--out", out).exit_code == 0
    _assert_bad_input(_run("generate", "--n-pairs", 3, "--n-points", 20, "--format", "tuebingen", "--out", out),
                      "already holds pair files", "--overwrite")
    (out / "notes.txt").write_text("mine")
    result = _run("generate", "--n-pairs", 3, "--n-points", 20, "--format", "tuebingen", "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("pair0*.txt")) == ["pair0001.txt", "pair0002.txt", "pair0003.txt"]
    assert (out / "notes.txt").read_text() == "mine"  # only the generator's own files are replaced
    assert len(read_tuebingen(out, with_truth=True)) == 3


def test_generated_and_scored_files_follow_the_umask(tmp_path):
    import os
    import stat

    import torch

    import ncc
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    model = tmp_path / "m.safetensors"
    ncc.save(NCC(NCCConfig(embed_dim=8, classifier_dim=8)).eval(), model)
    old = os.umask(0o027)
    try:
        result = _run("generate", "--n-pairs", 4, "--n-points", 20, "--format", "cepc", "--out", tmp_path / "c")
        assert result.exit_code == 0
        assert _run("generate", "--n-pairs", 4, "--n-points", 20, "--out", tmp_path / "p.npz").exit_code == 0
        result = _run("score", tmp_path / "c_pairs.csv", "-m", model, "-o", tmp_path / "s.csv")
        assert result.exit_code == 0, result.output
    finally:
        os.umask(old)
    written = ["c_pairs.csv", "c_targets.csv", "c_meta.json", "p.npz", "s.csv", "s.csv.json"]
    assert {name: oct(stat.S_IMODE((tmp_path / name).stat().st_mode)) for name in written} == \
        {name: oct(0o640) for name in written}


@pytest.mark.parametrize("fmt", ["tuebingen", "cepc", "two-column"])
def test_plot_pairs_reads_every_score_format(tmp_path, fmt):
    from ncc.formats import write_two_column

    pairs = [np.asarray(p, dtype=float) for p in make_pairs(4, n_points=30, random_state=0)[0]]
    if fmt == "two-column":
        src = tmp_path / "one.csv"
        write_two_column(src, pairs[0], header=["a", "b"])
    else:
        src = tmp_path / ("tb" if fmt == "tuebingen" else "c")
        assert _run("generate", "--n-pairs", 4, "--n-points", 30, "--format", fmt, "--out", src).exit_code == 0
        src = src if fmt == "tuebingen" else tmp_path / "c_pairs.csv"
    out = tmp_path / "grid.png"
    result = _run("plot-pairs", src, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"drew {1 if fmt == 'two-column' else 4} pairs" in result.output


def test_plot_pairs_on_a_folder_without_pairs_does_not_say_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run("plot-pairs", tmp_path / "empty", "--out", tmp_path / "g.png")
    _assert_bad_input(result, "no pairNNNN.txt or pair_N.txt files")
    assert "not found" not in result.output and "no such" not in result.output


def test_plot_titles_name_independent_and_confounded_apart():
    from ncc.pair_grid import pair_title

    assert pair_title(-1, "independent") == "independent (no link)"
    assert pair_title(-1, "confounded") == "confounded (x ← z → y)"
    assert (pair_title(1), pair_title(0), pair_title(None)) == ("x → y", "y → x", "truth unknown")
