"""`ncc evaluate` outputs: strict JSON, CSV, --output, --flip-seed, --plots, progress bars; the plot curves."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ncc.cli import app
from ncc.formats import write_tuebingen
from ncc.plots import decision_rate_curve, roc_points

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    import torch

    import ncc
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    ncc.save(NCC(NCCConfig(embed_dim=8, classifier_dim=8)).eval(), path)
    return path


def _folder(tmp_path, k=10, one_way=False, n=80):
    rng = np.random.default_rng(0)
    pairs, truths = [], []
    for i in range(k):
        x = rng.normal(size=n)
        y = np.tanh(2 * x) + 0.3 * rng.uniform(-1, 1, n)
        forward = one_way or i % 2 == 0
        pairs.append(np.c_[x, y] if forward else np.c_[y, x])
        truths.append(1 if forward else 0)
    folder = tmp_path / ("oneway" if one_way else "mixed")
    write_tuebingen(folder, pairs, truths)
    return folder


def _strict_json(text):
    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def _args(folder, model_file, *more):
    return ["evaluate", str(folder), "-m", str(model_file), "--n-boot", "200", "--baselines", "IGCI,CDS", *more]


def test_one_way_truth_gives_null_auc_a_warning_and_flip_seed_fixes_it(tmp_path, model_file):
    folder = _folder(tmp_path, one_way=True)
    result = runner.invoke(app, _args(folder, model_file, "--format", "json"))
    assert result.exit_code == 0, result.output
    report = _strict_json(result.stdout)
    assert report["metrics"]["NCC"]["auc"] is None
    assert "constant rule" in result.stderr and "--flip-seed" in result.stderr
    assert report["warnings"] and "scores 1.0" in report["warnings"][0]

    out = tmp_path / "flipped.json"
    flipped = runner.invoke(app, _args(folder, model_file, "--format", "json", "--flip-seed", "3", "-o", str(out)))
    assert flipped.exit_code == 0, flipped.output
    rep = _strict_json(flipped.stdout)
    assert 0 < rep["n_flipped"] < 10 and rep["warnings"] == [] and rep["metrics"]["NCC"]["auc"] is not None
    saved = _strict_json(out.read_text())
    assert runner.invoke(app, _args(folder, model_file, "-o", str(tmp_path / "plain.json"))).exit_code == 0
    plain = {p["pair_id"]: p for p in _strict_json((tmp_path / "plain.json").read_text())["pairs"]}
    n_changed = 0
    for p in saved["pairs"]:
        before = plain[p["pair_id"]]
        if p["truth"] != before["truth"]:  # flipped: truth and every (antisymmetric) score mirror
            n_changed += 1
            for name in ("NCC", "IGCI", "CDS"):
                assert p["scores"][name] == pytest.approx(1 - before["scores"][name], abs=1e-6)
    assert n_changed == rep["n_flipped"]


def test_csv_format_and_csv_output_are_read_by_pandas(tmp_path, model_file):
    pd = pytest.importorskip("pandas")
    import io

    folder = _folder(tmp_path)
    out = tmp_path / "res.csv"
    result = runner.invoke(app, _args(folder, model_file, "--format", "csv", "-o", str(out)))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == ["method", "n_pairs", "accuracy", "weighted_accuracy", "auc", "ci_low", "ci_high"]
    assert list(table.method) == ["NCC", "IGCI", "CDS"] and (table.n_pairs == 10).all()
    assert pd.read_csv(out).equals(table)
    pairs = pd.read_csv(tmp_path / "res.pairs.csv")
    assert list(pairs.columns) == ["pair_id", "truth", "weight", "NCC", "IGCI", "CDS"] and len(pairs) == 10
    prov = _strict_json((tmp_path / "res.csv.json").read_text())
    assert prov["command"] == "ncc evaluate" and prov["n_pairs"] == 10


def test_output_suffix_and_format_errors_are_one_line(tmp_path, model_file):
    folder = _folder(tmp_path)
    for args, text in ((["-o", str(tmp_path / "r.txt")], ".csv or .json"),
                       (["--format", "yaml"], "unknown --format 'yaml'")):
        result = runner.invoke(app, _args(folder, model_file, *args))
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
        assert text in result.stderr


def test_input_layout_in_format_still_works(tmp_path, model_file):
    folder = _folder(tmp_path)
    old = runner.invoke(app, _args(folder, model_file, "--format", "tuebingen", "--json"))
    new = runner.invoke(app, _args(folder, model_file, "--input-format", "tuebingen", "--json"))
    assert old.exit_code == 0 and new.exit_code == 0, old.output
    assert _strict_json(old.stdout)["metrics"] == _strict_json(new.stdout)["metrics"]


def test_progress_bars_name_every_method_and_markdown_is_the_default(tmp_path, model_file):
    result = runner.invoke(app, _args(_folder(tmp_path), model_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("| method |")
    for name in ("NCC", "IGCI", "CDS"):
        assert f"{name:>8}: 100%" in result.stderr


def test_plots_are_written(tmp_path, model_file):
    result = runner.invoke(app, _args(_folder(tmp_path), model_file, "--plots", str(tmp_path / "figs")))
    assert result.exit_code == 0, result.output
    for name in ("decision_rate.png", "roc.png", "confident_pairs.png"):
        assert (tmp_path / "figs" / name).read_bytes()[:8] == PNG
    (tmp_path / "blocker").write_text("x")
    bad = runner.invoke(app, _args(_folder(tmp_path), model_file, "--plots", str(tmp_path / "blocker")))
    assert bad.exit_code == 2 and "not a folder" in bad.stderr


def test_score_plots_grid_pages(tmp_path, model_file):
    from ncc.plots import GRID_MAX

    rng = np.random.default_rng(0)
    write_tuebingen(tmp_path / "many", [rng.normal(size=(30, 2)) for _ in range(GRID_MAX + 2)])
    result = runner.invoke(app, ["score", str(tmp_path / "many"), "-m", str(model_file),
                                 "--plots", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["scores.png", "scores_2.png"]


# ----------------------------------------------------------------------------- curves
def test_decision_rate_curve_ranks_by_confidence():
    truth = [1, 0, 1, 0]
    score = [0.9, 0.6, 0.3, 0.5]  # confidences 0.4 right, 0.1 wrong, 0.2 wrong, 0 tie
    rates, acc = decision_rate_curve(truth, score)
    np.testing.assert_allclose(rates, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(acc, [1.0, 0.5, 1 / 3, 1.5 / 4])
    _, weighted = decision_rate_curve(truth, score, weights=[1, 1, 3, 1])
    np.testing.assert_allclose(weighted[:2], [1.0, 0.25])


def test_roc_points():
    fpr, tpr = roc_points([1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0, 0.5, 1])
    fpr, tpr = roc_points([1, 0], [0.5, 0.5])  # one tied threshold: one step to (1, 1)
    np.testing.assert_allclose(np.c_[fpr, tpr], [[0, 0], [1, 1]])
    assert roc_points([1, 1], [0.2, 0.3])[0].size == 0
