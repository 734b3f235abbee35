"""The pretrained-model registry, and a golden test of the real shipped files: a silently changed model fails."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import ncc
import ncc.weights
import synthetic
from ncc.serialization import ModelFileError
from ncc.weights import LinkWeights, Weights

# Recorded once with the shipped models before the registry existed (commit df49fb6), by:
#   X, y, _ = synthetic.generate(2, synthetic.make_config(n_points=200), random_state=12345)
#   ncc.causal_score(X[0][:, 0], X[0][:, 1]), ncc.causal_score(X[1][:, 0], X[1][:, 1]), ncc.link_scores([X[0]])[0]
RECORDED_DIRECTION = (0.3024078968487756, 0.3878718278077075)
RECORDED_P_NONE = 0.7690925425270355


def _fixed_pairs():
    X, _, _ = synthetic.generate(2, synthetic.make_config(n_points=200), random_state=12345)
    return X


def test_default_members_are_aliases_with_meta():
    assert Weights.DEFAULT is Weights.NCC_HYBRID_E3_V1 and LinkWeights.DEFAULT is LinkWeights.NCC_LINK_V1
    assert ncc.Weights is Weights and ncc.LinkWeights is LinkWeights
    for member in (Weights.DEFAULT, LinkWeights.DEFAULT):
        meta = member.meta
        assert {"recipe", "training_data", "heldout_accuracy", "sha256", "size"} <= set(meta)
        assert meta["recipe"].startswith("ncc train") and len(meta["sha256"]) == 64
    assert Weights.DEFAULT.meta["tuebingen_accuracy"] == 0.671


def test_golden_shipped_direction_model():
    path = Weights.DEFAULT.verify()  # the SHA-256 and size of the installed file are the recorded ones
    assert path == Weights.DEFAULT.path and path.name == "ncc-default.safetensors"
    X = _fixed_pairs()
    scores = [ncc.causal_score(p[:, 0], p[:, 1]) for p in X]
    np.testing.assert_allclose(scores, RECORDED_DIRECTION, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ncc.score_pairs(list(X), Weights.DEFAULT.load()), RECORDED_DIRECTION, rtol=0, atol=1e-6)


def test_golden_shipped_link_model():
    LinkWeights.DEFAULT.verify()
    np.testing.assert_allclose(ncc.link_scores([_fixed_pairs()[0]])[0], RECORDED_P_NONE, rtol=0, atol=1e-6)


def test_verify_refuses_a_changed_or_missing_file(tmp_path, monkeypatch):
    shutil.copy(Weights.DEFAULT.path, tmp_path / Weights.DEFAULT.value.filename)
    monkeypatch.setattr(ncc.weights, "PRETRAINED_DIR", tmp_path)
    assert Weights.DEFAULT.verify() == tmp_path / "ncc-default.safetensors"
    with open(Weights.DEFAULT.path, "r+b") as fh:  # one flipped byte at the end of the tensor data
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    with pytest.raises(ModelFileError, match="is not the shipped NCC_HYBRID_E3_V1"):
        Weights.DEFAULT.verify()
    with pytest.raises(ModelFileError, match="not installed"):
        LinkWeights.DEFAULT.verify()  # no link file in the patched folder
