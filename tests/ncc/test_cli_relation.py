"""The three answers and the network's view from the command line: `ncc score` columns,
`ncc evaluate` on CEPC targets with label 0, `ncc train --head link` and its plot, `ncc embed`."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ncc.cli import app
from ncc.formats import read_cepc, write_anls, write_cepc
from tests.ncc.helpers import one_line_error, read_csv_rows

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny direction model and a tiny link model, randomly initialised, saved as files."""
    import ncc
    from ncc.link import LinkModel
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    config = NCCConfig(embed_dim=8, classifier_dim=8)
    folder = tmp_path_factory.mktemp("models")
    ncc.save(NCC(config).eval(), folder / "direction.safetensors")
    ncc.save(LinkModel([NCC(config)]).eval(), folder / "link.safetensors")
    return folder / "direction.safetensors", folder / "link.safetensors"


def _pairs(k=9, n=60, seed=0):
    rng = np.random.default_rng(seed)
    pairs, targets = [], []
    for i in range(k):
        x = rng.normal(size=n)
        if i % 3 == 2:  # no link
            pairs.append(np.c_[x, rng.normal(size=n)])
            targets.append(0)
        else:
            y = np.tanh(x) + 0.2 * rng.uniform(-1, 1, n)
            pairs.append(np.c_[x, y] if i % 3 == 0 else np.c_[y, x])
            targets.append(1 if i % 3 == 0 else -1)
    return pairs, targets


def _cepc(tmp_path, targets=True, with_zero=True):
    pairs, t = _pairs()
    if not with_zero:
        t = [v if v != 0 else 1 for v in t]
    ids = [f"p{i}" for i in range(len(pairs))]
    write_cepc(tmp_path / "d_pairs.csv", ids, pairs, targets_csv=tmp_path / "d_targets.csv", targets=t)
    return tmp_path / "d_pairs.csv"






def test_cepc_target_zero_is_marked_no_link(tmp_path):
    records = read_cepc(_cepc(tmp_path), tmp_path / "d_targets.csv")
    assert [r.linked for r in records[:3]] == [True, True, False]
    assert [r.truth for r in records[:3]] == [1, 0, None]
    assert all(r.linked is None for r in read_cepc(tmp_path / "d_pairs.csv"))


def test_score_appends_the_three_answers(tmp_path, models):
    import ncc

    direction, link = models
    pairs, _ = _pairs()
    pairs[4] = pairs[4][:5]  # too few points: every value empty
    write_anls(tmp_path / "an", pairs)
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["score", str(tmp_path / "an"), "-m", str(direction), "--link-model", str(link),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0]
    assert header == "pair_id,score,direction,n_points,status,p_xy,p_yx,p_none"
    rows = read_csv_rows(out)
    bad = rows[4]
    assert bad["status"].startswith("too_few_points") and bad["score"] == bad["p_xy"] == bad["p_none"] == ""
    good = [r for r in rows if r["p_none"]]
    assert len(good) == len(rows) - 1
    for r in good:
        assert float(r["p_xy"]) + float(r["p_yx"]) + float(r["p_none"]) == pytest.approx(1.0, abs=3e-6)
    expected = ncc.predict_relations([pairs[0]], model=direction, link_model=link)[0]
    assert [float(rows[0][c]) for c in ("p_xy", "p_yx", "p_none")] == pytest.approx(expected, abs=1e-6)
    provenance = json.loads((tmp_path / "s.csv.json").read_text())
    assert provenance["link_path"] == str(link) and len(provenance["link_sha256"]) == 64


def test_score_with_a_direction_file_as_link_model_is_one_line(tmp_path, models):
    direction, _ = models
    write_anls(tmp_path / "an", _pairs()[0])
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "an"), "-m", str(direction),
                                               "--link-model", str(direction)]))
    assert str(direction) in line and "direction model" in line
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "an"), "-m", str(direction),
                                               "--link-model", str(tmp_path / "nope.safetensors")]))
    assert "nope.safetensors" in line


def test_evaluate_reports_three_way_figures_with_label_zero(tmp_path, models):
    direction, link = models
    pairs_csv = _cepc(tmp_path)
    args = ["evaluate", str(pairs_csv), "-m", str(direction), "--link-model", str(link), "--baselines", "none",
            "--n-boot", "100"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "| NCC | 6 |" in result.output  # two-way figures: the 6 linked pairs only
    assert "left out: no_link: 3" in result.output
    assert "three answers (x->y, y->x, none) on 9 pairs (3 without a link)" in result.output
    assert "AUC of p_none, no link vs link" in result.output
    report = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    relation = report["relation"]
    assert relation["n_pairs"] == 9 and relation["n_per_class"] == {"x->y": 3, "y->x": 3, "none": 3}
    assert 0 <= relation["three_way_accuracy"] <= 1 and 0 <= relation["auc_none"] <= 1


def test_evaluate_without_label_zero_is_unchanged(tmp_path, models):
    direction, _ = models
    pairs_csv = _cepc(tmp_path, with_zero=False)
    result = runner.invoke(app, ["evaluate", str(pairs_csv), "-m", str(direction), "--baselines", "none",
                                 "--n-boot", "100", "--link-model", str(tmp_path / "never-read.safetensors")])
    assert result.exit_code == 0, result.output
    assert "three answers" not in result.output and "no_link" not in result.output
    report = json.loads(runner.invoke(app, ["evaluate", str(pairs_csv), "-m", str(direction), "--baselines",
                                            "none", "--n-boot", "100", "--json"]).stdout)
    assert "relation" not in report


def test_relation_metrics():
    from ncc.metrics import relation_metrics

    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]])
    m = relation_metrics([0, 1, 2, 2], probs)
    assert m["three_way_accuracy"] == 0.75 and m["auc_none"] == 1.0
    assert m["n_per_class"] == {"x->y": 1, "y->x": 1, "none": 2}
    tie = relation_metrics([2], np.array([[0.25, 0.25, 0.5]]))
    assert tie["three_way_accuracy"] == 1.0 and np.isnan(tie["auc_none"])
    with pytest.raises(ValueError, match="truth3"):
        relation_metrics([3], probs[:1])


TINY_TRAIN = ["--steps", "4", "--batch-size", "6", "--n-points", "20:40", "--heldout", "12", "--eval-every", "2",
              "--embed-dim", "8", "--classifier-dim", "8", "--threads", "1", "--no-progress", "--device", "cpu"]


def test_train_link_head_writes_model_recipe_and_plot(tmp_path):
    from ncc.serialization import load_link_model

    out = tmp_path / "link.safetensors"
    result = runner.invoke(app, ["train", "--head", "link", *TINY_TRAIN, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "link AUC" in result.output
    model = load_link_model(out)
    assert model.recipe["command"] and model.recipe["seed"] == 0  # (under pytest the command is pytest's argv)
    assert model.recipe["data"]["generator"]["kinds"] == ["causal", "independent", "confounded"]
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_direction_writes_its_plot(tmp_path):
    out = tmp_path / "m.safetensors"
    result = runner.invoke(app, ["train", *TINY_TRAIN, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".png").stat().st_size > 1000


@pytest.mark.parametrize("args, words", [
    (["--head", "colour"], "--head"),
    (["--head", "link", "--kinds", "causal"], "--kinds"),
])
def test_train_head_errors_are_one_line(tmp_path, args, words):
    line = one_line_error(runner.invoke(app, ["train", *TINY_TRAIN, *args, "-o", str(tmp_path / "m.safetensors")]))
    assert words in line


def test_train_link_head_needs_no_link_pairs_in_data(tmp_path):
    import synthetic
    from synthetic.io import save

    config = synthetic.make_config(n_points=30)  # causal only
    X, y, _ = synthetic.generate(12, config, random_state=0)
    save(tmp_path / "causal.npz", X, y, config=config, random_state=0)
    line = one_line_error(runner.invoke(app, ["train", "--head", "link", "--steps", "2", "--threads", "1",
                                               "--no-progress", "--data", str(tmp_path / "causal.npz"),
                                               "-o", str(tmp_path / "m.safetensors")]))
    assert "causal.npz" in line and "-1" in line


def test_plot_history_draws_members_and_empty_history(tmp_path):
    from ncc.plot_training import plot_history

    history = [{"member": m, "step": s, "train_loss": 0.6 - 0.01 * s, "heldout_accuracy": 0.6 + 0.01 * s,
                "heldout_loss": 0.5} for m in (0, 1) for s in (5, 10)]
    assert plot_history(history, tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert plot_history([], tmp_path / "b.png").stat().st_size > 0
    assert not list(tmp_path.glob(".*.tmp"))


def test_embed_writes_plot_and_coordinates(tmp_path, models):
    direction, _ = models
    pairs_csv = _cepc(tmp_path)
    out = tmp_path / "view" / "e.png"
    result = runner.invoke(app, ["embed", str(pairs_csv), "-m", str(direction), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    rows = read_csv_rows(out.with_suffix(".csv"))
    assert [r["truth"] for r in rows[:3]] == ["x -> y", "y -> x", "no link"]
    coords = np.array([[float(r["pc1"]), float(r["pc2"])] for r in rows])
    assert np.abs(coords.mean(0)).max() < 1e-5  # centred PCA scores
    assert coords[:, 0].var() >= coords[:, 1].var()


def test_embedding_matches_the_model_and_pca_is_stable(models):
    import ncc
    from ncc.embedding import pca_2d, pooled_embeddings

    direction, _ = models
    net = ncc.load(direction)
    pairs, _ = _pairs()
    e = pooled_embeddings(pairs, net)
    assert e.shape == (len(pairs), 8)
    with torch.no_grad():  # the network's own mean embeddings: (x, y) minus (y, x)
        from ncc.data import pad_pairs
        from ncc.model import pack, standardize

        packed, lengths = pack(*pad_pairs(pairs[:1]))
        z, _ = standardize(packed, lengths)
        both = net.embed(net.prepare(z, lengths)[0], lengths)[0]
        own = (both[0] - both[1]).double().numpy()
    np.testing.assert_allclose(e[0], own, atol=1e-6)
    a, share = pca_2d(e)
    b, _ = pca_2d(e[np.random.default_rng(0).permutation(len(e))])
    assert share[0] >= share[1] >= 0
    np.testing.assert_allclose(np.sort(a[:, 0]), np.sort(b[:, 0]), atol=1e-9)  # same picture, same signs


def test_embed_errors_are_one_line(tmp_path, models):
    direction, _ = models
    pairs_csv = _cepc(tmp_path)
    line = one_line_error(runner.invoke(app, ["embed", str(pairs_csv), "-m", str(direction), "-o",
                                               str(tmp_path / "e.jpg")]))
    assert ".png" in line
    write_anls(tmp_path / "one", [_pairs()[0][0]])
    line = one_line_error(runner.invoke(app, ["embed", str(tmp_path / "one"), "-m", str(direction), "-o",
                                               str(tmp_path / "e.png")]))
    assert "one" in line and "at least 2" in line
