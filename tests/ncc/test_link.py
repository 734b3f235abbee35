"""The link head (P(no causal link)): symmetry, set property, batching, files, training, the
three answers of the Python API."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ncc
from ncc.link import LinkModel
from ncc.model import NCC, NCCConfig
from ncc.serialization import DEFAULT_LINK_MODEL_PATH, ModelFileError, load_link_model, load_model, save_model
from ncc.train import DEFAULT_LINK_GENERATOR, SyntheticPairs, TrainConfig, evaluate_link, train_ncc

TINY = NCCConfig(embed_dim=8, classifier_dim=8, statistics=True, copula=True)
GEN = {**DEFAULT_LINK_GENERATOR, "n_points": (20, 60)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(steps=8, seed=0, checkpoint=None, resume=False, callback=None, ensemble=1):
    config = TrainConfig(steps=steps, batch_size=8, seed=seed, n_heldout=24, eval_every=4, checkpoint_every=2,
                         ensemble=ensemble)
    data = SyntheticPairs(GEN, seed=seed, n_heldout=config.n_heldout)
    return train_ncc(TINY, config, data, checkpoint=checkpoint, resume=resume, progress=False, callback=callback,
                     head="link")


@pytest.fixture(scope="module")
def trained():
    return _train()


@pytest.fixture(scope="module")
def link(trained) -> LinkModel:
    return trained.model


def _pairs(seed: int, sizes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i, n in enumerate(sizes):
        x = rng.normal(size=n) * rng.uniform(0.1, 10)
        y = np.sin(x) + 0.3 * rng.normal(size=n) if i % 2 == 0 else rng.normal(size=n)
        out.append(np.c_[x, y])
    return out


def test_training_gives_a_link_model_with_link_figures(trained):
    assert isinstance(trained.model, LinkModel)
    meta = trained.metadata
    assert meta["head"] == "link"
    assert set(meta["heldout"]) == {"n_pairs", "accuracy", "loss", "auc"}
    assert [h["step"] for h in meta["history"]] == [4, 8]
    assert all("heldout_auc" in h for h in meta["history"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), sizes=st.lists(st.integers(3, 80), min_size=1, max_size=4))
def test_p_none_is_symmetric(link, seed, sizes):
    pairs = _pairs(seed, sizes)
    p = ncc.link_scores(pairs, link)
    swapped = ncc.link_scores([q[:, ::-1] for q in pairs], link)
    np.testing.assert_array_equal(p, swapped)  # exact: both column orders run, then a commutative sum
    assert np.all((p > 0) & (p < 1))


def test_p_none_is_exactly_symmetric_on_large_and_subsampled_pairs(link):
    pairs = _pairs(7, [2500, 4100, 6000])  # above the eval block size; 6000 > max_points: subsampled
    np.testing.assert_array_equal(ncc.link_scores(pairs, link), ncc.link_scores([q[:, ::-1] for q in pairs], link))


def test_symmetric_logit_is_the_training_logit_within_float_rounding(link):
    from ncc.data import pad_pairs

    points, mask = pad_pairs(_pairs(8, [40, 90]))
    with torch.no_grad():
        member = link.members[0]
        trained = member(points.float(), mask).double().sum(1)  # the logit the loss saw
        np.testing.assert_allclose(link(points, mask)[0].numpy(), trained.numpy(), atol=1e-4)


def test_p_none_is_not_constant_and_tracks_dependence(link):
    p = ncc.link_scores(_pairs(1, [60] * 8), link)
    assert p.std() > 1e-3  # the symmetry test would be vacuous for a constant model


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_point_order_does_not_matter(link, seed):
    pairs = _pairs(seed, [40, 71])
    rng = np.random.default_rng(seed)
    shuffled = [q[rng.permutation(len(q))] for q in pairs]
    np.testing.assert_allclose(ncc.link_scores(shuffled, link), ncc.link_scores(pairs, link), atol=1e-6)


def test_batch_equals_one_by_one(link):
    pairs = _pairs(5, [15, 200, 64, 33, 1000])
    together = ncc.link_scores(pairs, link, batch_size=3)
    alone = np.array([ncc.link_scores([q], link)[0] for q in pairs])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_constant_variable_gives_one_half_flagged(link):
    pair = np.c_[np.arange(20.0), np.full(20, 3.0)]
    p, constant = ncc.link_scores([pair, _pairs(0, [20])[0]], link, return_constant=True)
    assert p[0] == 0.5 and constant.tolist() == [True, False]


def test_bad_pair_is_named(link):
    bad = np.c_[np.arange(10.0), np.r_[np.arange(9.0), np.nan]]
    with pytest.raises(ValueError, match=r"pairs\[1\]"):
        ncc.link_scores([_pairs(0, [10])[0], bad], link)


def test_predict_relation_sums_to_one_and_swaps(link, train_tiny):
    direction = train_tiny(NCCConfig(embed_dim=8, classifier_dim=8))
    (pair,) = _pairs(3, [80])
    x, y = pair[:, 0], pair[:, 1]
    r = ncc.predict_relation(x, y, model=direction, link_model=link)
    assert list(r) == ["x->y", "y->x", "none"]
    assert sum(r.values()) == pytest.approx(1.0, abs=1e-12)
    s = ncc.causal_score(x, y, model=direction)
    none = ncc.link_scores([pair], link)[0]
    assert r["none"] == pytest.approx(none, abs=1e-15)
    assert r["x->y"] == pytest.approx((1 - none) * s, abs=1e-15)
    back = ncc.predict_relation(y, x, model=direction, link_model=link)
    assert back["x->y"] == pytest.approx(r["y->x"], abs=1e-9) and back["none"] == pytest.approx(r["none"], abs=1e-12)
    rows = ncc.predict_relations(_pairs(4, [30, 50, 70]), model=direction, link_model=link)
    assert rows.shape == (3, 3)
    np.testing.assert_allclose(rows.sum(1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        ncc.predict_relation(x, y[:-1], model=direction, link_model=link)


def test_save_load_roundtrip_with_recipe(link, trained, tmp_path):
    path = tmp_path / "link.safetensors"
    metadata = {**trained.metadata, "command": "ncc train --head link --steps 8"}
    save_model(link, path, metadata)
    loaded = load_link_model(path)
    assert isinstance(loaded, LinkModel)
    assert loaded.recipe["command"] == "ncc train --head link --steps 8"
    assert loaded.recipe["seed"] == 0 and loaded.recipe["model_config"]["embed_dim"] == 8
    pairs = _pairs(2, [30, 45])
    np.testing.assert_array_equal(ncc.link_scores(pairs, loaded), ncc.link_scores(pairs, link))
    np.testing.assert_array_equal(ncc.link_scores(pairs, path), ncc.link_scores(pairs, link))


def test_each_loader_refuses_the_other_kind_by_name(link, tmp_path):
    link_path, direction_path = tmp_path / "link.safetensors", tmp_path / "direction.safetensors"
    save_model(link, link_path)
    save_model(NCC(TINY).eval(), direction_path)
    with pytest.raises(ModelFileError, match="is a link model"):
        load_model(link_path)
    with pytest.raises(ModelFileError, match="is a direction model"):
        load_link_model(direction_path)
    with pytest.raises(ModelFileError, match="is a link model"):
        ncc.score_pairs(_pairs(0, [20]), link_path)


def test_link_run_resumes_exactly(tmp_path):
    straight = _train(steps=6)
    ckpt = tmp_path / "run.ckpt"

    def stop(member, step, loss):
        if step == 3:
            raise KeyboardInterrupt

    from ncc.train import TrainingInterrupted

    with pytest.raises(TrainingInterrupted):
        _train(steps=6, checkpoint=ckpt, callback=stop)
    resumed = _train(steps=6, checkpoint=ckpt, resume=True)
    for a, b in zip(straight.model.members, resumed.model.members):
        for key, value in a.state_dict().items():
            assert torch.equal(value, b.state_dict()[key]), key


def test_direction_checkpoint_is_not_resumed_as_link(tmp_path):
    from ncc.train import CheckpointError

    ckpt = tmp_path / "run.ckpt"
    config = TrainConfig(steps=2, batch_size=4, n_heldout=0, checkpoint_every=1)
    data = SyntheticPairs(GEN, seed=0, n_heldout=0)
    train_ncc(TINY, config, data, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointError, match="head"):
        train_ncc(TINY, config, data, checkpoint=ckpt, resume=True, progress=False, head="link")


def test_unknown_head():
    with pytest.raises(ValueError, match="head"):
        train_ncc(TINY, TrainConfig(steps=1), SyntheticPairs(GEN, n_heldout=0), head="colour", progress=False)


def test_evaluate_link_separates_independent_pairs_after_training():
    # A few more steps: independent pairs (shuffled effect) are the easy half of "no link".
    import synthetic

    result = _train(steps=20, seed=1)
    X, y = synthetic.make_pairs(60, n_points=(40, 80), kinds="causal,independent", mechanism="mix",
                                random_state=999)
    assert evaluate_link(result.model, X, y)["auc"] > 0.7


def test_shipped_link_model_loads_with_its_recipe():
    model = load_link_model(DEFAULT_LINK_MODEL_PATH)
    assert isinstance(model, LinkModel)
    assert model.recipe["command"].startswith("ncc train --head link")
    assert "generator" in model.recipe["data"] and model.recipe["seed"] == 0
    sidecar = json.loads(DEFAULT_LINK_MODEL_PATH.with_suffix(".json").read_text())
    assert sidecar["head"] == "link" and sidecar["history"]
