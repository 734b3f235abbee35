"""Python API: score_pairs / causal_score, model files (save, load, every kind of bad file)."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

import ncc
import ncc.api
import ncc.serialization
import ncc.weights
from ncc.data import subsample_indices
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.serialization import ModelFileError

TINY = NCCConfig(embed_dim=12, classifier_dim=12, max_points=300, n_subsamples=3)


def _pairs(seed: int, sizes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        x = rng.standard_t(3, size=n)
        out.append(np.c_[x, x**3 + rng.normal(size=n)] * rng.uniform(0.5, 3))
    return out


@pytest.fixture(scope="module")
def model(train_tiny) -> NCC:
    return train_tiny(TINY)


def test_score_pairs_equals_one_by_one(model):
    pairs = _pairs(0, [15, 300, 40, 1000, 41, 15, 777, 2])
    batched = ncc.score_pairs(pairs, model, batch_size=3)
    one_by_one = np.array([ncc.causal_score(p[:, 0], p[:, 1], model) for p in pairs])
    assert batched.dtype == np.float64 and batched.shape == (len(pairs),)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-6)
    np.testing.assert_allclose(ncc.score_pairs(pairs, model, batch_size=1000), batched, atol=1e-6)
    assert np.all((batched >= 0) & (batched <= 1)) and np.ptp(batched) > 1e-4


def test_score_pairs_is_antisymmetric(model):
    pairs = _pairs(1, [50, 400, 1200])
    s = ncc.score_pairs(pairs, model)
    s_rev = ncc.score_pairs([p[:, ::-1] for p in pairs], model)
    np.testing.assert_allclose(s + s_rev, 1.0, atol=1e-6)


def test_array_input_equals_list_input(model):
    X = np.stack(_pairs(2, [60] * 5)).astype(np.float32)
    np.testing.assert_allclose(ncc.score_pairs(X, model), ncc.score_pairs(list(X), model), atol=1e-9)


def test_large_pairs_are_mean_of_seeded_subsamples(model):
    (pair,) = _pairs(3, [1000])
    got = ncc.score_pairs([pair], model, random_state=7)[0]
    subs = [pair[idx] for idx in subsample_indices(1000, TINY.max_points, TINY.n_subsamples, 7)]
    expected = ncc.score_pairs(subs, model).mean()
    assert got == pytest.approx(expected, abs=1e-9)
    assert got != pytest.approx(ncc.score_pairs([pair], model, max_points=1000)[0], abs=1e-6)
    assert ncc.score_pairs([pair], model, random_state=7)[0] == got  # seeded
    assert ncc.score_pairs([pair], model, random_state=8)[0] != pytest.approx(got, abs=1e-9)
    more = ncc.score_pairs([pair], model, n_subsamples=5, random_state=7)[0]
    assert more != pytest.approx(got, abs=1e-9)


def test_subsample_indices_are_distinct_and_seeded():
    a = subsample_indices(50, 20, 3, random_state=0)
    assert len(a) == 3 and all(len(np.unique(i)) == 20 and i.max() < 50 for i in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, subsample_indices(50, 20, 3, random_state=0)))


def test_constant_variables_score_one_half(model):
    rng = np.random.default_rng(0)
    pairs = [np.c_[rng.normal(size=50), np.full(50, 2.0)], rng.normal(size=(50, 2)),
             np.c_[np.full(900, -1.0), rng.normal(size=900)]]
    scores, constant = ncc.score_pairs(pairs, model, return_constant=True)
    assert constant.tolist() == [True, False, True]
    assert scores[0] == 0.5 and scores[2] == 0.5
    assert ncc.causal_score(np.ones(20), np.arange(20.0), model) == 0.5


@pytest.mark.parametrize("bad, match", [
    ([np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 3.0]])], r"pairs\[0\].*NaN"),
    ([np.zeros((5, 2)), np.array([[0.0, np.inf]] * 4)], r"pairs\[1\].*infinite"),
    ([np.zeros((5, 3))], r"pairs\[0\].*\(n, 2\)"),
    ([np.zeros(5)], r"pairs\[0\].*shape"),
    ([np.zeros((1, 2))], r"pairs\[0\].*at least 2"),
    ([np.array([["a", "b"], ["c", "d"]])], r"pairs\[0\].*numbers"),
    ([[[1, 2], [3]]], r"pairs\[0\]"),
    (np.zeros((4, 2)), "list of pairs"),
    ("pairs.csv", "sequence"),
    (np.zeros((3, 10, 3)), "shape"),
    (np.arange(5.0), r"1-D array of shape \(5,\).*list of \(n, 2\) arrays"),  # issue 11: was "got shape ()"
    (np.array(3.0), "0-D array"),
])
def test_bad_input_raises_a_clear_value_error(model, bad, match):
    with pytest.raises(ValueError, match=match):
        ncc.score_pairs(bad, model)


def test_causal_score_checks_its_input(model):
    with pytest.raises(ValueError, match="same length"):
        ncc.causal_score(np.zeros(5), np.zeros(6), model)
    with pytest.raises(ValueError, match="1-D"):
        ncc.causal_score(np.zeros((5, 2)), np.zeros(5), model)
    with pytest.raises(ValueError, match="NaN"):
        ncc.causal_score([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], model)
    with pytest.raises(TypeError, match="model"):
        ncc.causal_score([1.0, 2.0], [1.0, 2.0], model=42)


def test_other_arguments_are_checked(model):
    pairs = _pairs(0, [20])
    with pytest.raises(ValueError, match="batch_size"):
        ncc.score_pairs(pairs, model, batch_size=0)
    with pytest.raises(ValueError, match="max_points"):
        ncc.score_pairs(pairs, model, max_points=1)
    assert ncc.score_pairs([], model).shape == (0,)


def test_scoring_restores_training_mode(train_tiny):
    model = train_tiny(TINY).train()
    ncc.score_pairs(_pairs(0, [30]), model)
    assert model.training


def test_save_load_roundtrip(tmp_path, model):
    path = ncc.save(model, tmp_path / "m.safetensors", metadata={"seed": 3})
    loaded = ncc.load(path)
    assert isinstance(loaded, NCC) and loaded.config == TINY and not loaded.training
    assert loaded.metadata == {"seed": 3} and (tmp_path / "m.json").exists()
    pairs = _pairs(4, [30, 500])
    np.testing.assert_array_equal(ncc.score_pairs(pairs, loaded), ncc.score_pairs(pairs, model))
    assert ncc.score_pairs(pairs, str(path)).tolist() == ncc.score_pairs(pairs, loaded).tolist()


def test_ensemble_roundtrip(tmp_path, train_tiny):
    ensemble = NCCEnsemble([train_tiny(TINY, s) for s in (1, 2, 3)]).eval()
    path = ncc.save(ensemble, tmp_path / "e.safetensors")
    loaded = ncc.load(path)
    assert isinstance(loaded, NCCEnsemble) and len(loaded.members) == 3
    pairs = _pairs(5, [25, 60])
    np.testing.assert_array_equal(ncc.score_pairs(pairs, loaded), ncc.score_pairs(pairs, ensemble))
    assert loaded.metadata is None


def test_model_paths_are_cached_until_the_file_changes(tmp_path, model, train_tiny):
    path = tmp_path / "m.safetensors"
    ncc.save(model, path)
    assert ncc.api.resolve_model(path) is ncc.api.resolve_model(str(path))
    first = ncc.api.resolve_model(path)
    ncc.save(train_tiny(TINY, 9), path)
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock resolution
    assert ncc.api.resolve_model(path) is not first


def test_missing_default_model_is_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "pretrained" / "ncc-default.safetensors"
    monkeypatch.setattr(ncc.weights, "PRETRAINED_DIR", missing.parent)  # the registry: the one place
    with pytest.raises(ModelFileError, match="default pretrained model is not installed"):
        ncc.causal_score([1.0, 2.0, 3.0], [3.0, 1.0, 2.0])
    with pytest.raises(ModelFileError, match="ncc-default.safetensors"):
        ncc.load()


def test_default_model_is_used_when_model_is_none(tmp_path, monkeypatch, model):
    default = tmp_path / "ncc-default.safetensors"
    ncc.save(model, default)
    monkeypatch.setattr(ncc.weights, "PRETRAINED_DIR", default.parent)  # the registry: the one place
    pairs = _pairs(6, [40])
    assert ncc.score_pairs(pairs).tolist() == ncc.score_pairs(pairs, model).tolist()


def _bad_file(tmp_path, kind: str, model):
    path = tmp_path / f"{kind}.safetensors"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(100)[:1].replace(b"\x80", b"\x00") + b"not a model" * 10)
    elif kind == "truncated":
        ncc.save(model, path)
        path.write_bytes(path.read_bytes()[:-50])
    elif kind == "foreign":
        from safetensors.torch import save_file
        save_file({"w": torch.zeros(3)}, str(path), metadata={"format": "pt"})
    elif kind == "wrong_shapes":
        from safetensors import safe_open
        from safetensors.torch import save_file
        ncc.save(model, path)
        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        meta["config"] = meta["config"].replace('"embed_dim": 12', '"embed_dim": 13')
        save_file(tensors, str(path), metadata=meta)
    elif kind == "nan_weights":
        from safetensors import safe_open
        from safetensors.torch import save_file
        ncc.save(model, path)
        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata()
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        tensors["members.0.head.bias"] = torch.tensor([float("nan")])
        save_file(tensors, str(path), metadata=meta)
    return path


@pytest.mark.parametrize("kind, match", [
    ("missing", "no such file"), ("empty", "empty"), ("garbage", "not a valid safetensors"),
    ("truncated", "not a valid safetensors"), ("foreign", "not an NCC model"),
    ("wrong_shapes", "do not match"), ("nan_weights", "NaN"), ("directory", "directory"),
])
def test_bad_model_files_raise_model_file_error_naming_the_path(tmp_path, model, kind, match):
    if kind == "missing":
        path = tmp_path / "nope.safetensors"
    elif kind == "directory":
        path = tmp_path
    else:
        path = _bad_file(tmp_path, kind, model)
    with pytest.raises(ModelFileError, match=match) as info:
        ncc.load(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)
    with pytest.raises(ModelFileError):
        ncc.score_pairs(_pairs(0, [10]), path)


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_pickle_payload_is_refused_without_running_it(tmp_path, writer, marker_payload):
    def write(path, marker):
        obj = {"members.0.head.bias": torch.zeros(1), "evil": marker_payload(marker)}
        if writer == "torch.save":
            torch.save(obj, path)
        else:
            with open(path, "wb") as fh:
                pickle.dump(obj, fh, protocol=4)

    # The payload is live: unpickling a twin file really creates its marker.
    twin, twin_marker = tmp_path / "twin.pt", tmp_path / "twin-marker"
    write(twin, twin_marker)
    if writer == "torch.save":
        torch.load(twin, weights_only=False)
    else:
        with open(twin, "rb") as fh:
            pickle.load(fh)
    assert twin_marker.exists()

    path, marker = tmp_path / "evil.safetensors", tmp_path / "marker"
    write(path, marker)
    with pytest.raises(ModelFileError, match="pickle") as info:
        ncc.load(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_threads_do_not_change_the_scores(model):
    pairs = _pairs(8, [30, 500, 40, 1000, 77] * 3)
    one = ncc.score_pairs(pairs, model, n_threads=1, batch_size=2)
    torch_threads = torch.get_num_threads()
    np.testing.assert_array_equal(ncc.score_pairs(pairs, model, n_threads=3, batch_size=2), one)
    assert torch.get_num_threads() == torch_threads  # restored
    with pytest.raises(ValueError, match="n_threads"):
        ncc.score_pairs(pairs, model, n_threads=0)
