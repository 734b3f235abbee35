"""NCCClassifier: the scikit-learn contract on lists of pairs."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score

import ncc
import ncc.api
import ncc.serialization
import ncc.weights
from ncc import NCCClassifier
from ncc.model import NCC, NCCConfig, NCCEnsemble

FAST = dict(embed_dim=8, classifier_dim=8, steps=8, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def pairs():
    import synthetic

    X, y = synthetic.make_pairs(40, n_points=(20, 60), random_state=0)
    return X, y


def test_hyper_parameters_live_in_init_only():
    est = NCCClassifier(embed_dim=7, steps=3, lr=0.01, random_state=4)
    params = est.get_params()
    assert params["embed_dim"] == 7 and params["steps"] == 3 and params["random_state"] == 4
    assert NCCClassifier(**params).get_params() == params
    est.set_params(steps=5, optimizer="rmsprop")
    assert est.steps == 5 and est.optimizer == "rmsprop"
    assert not any(k.endswith("_") for k in vars(NCCClassifier()))  # nothing fitted in __init__


def test_not_fitted_error(pairs):
    X, _ = pairs
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(NCCClassifier(), method)(X)


def test_fit_predict_contract(pairs):
    X, y = pairs
    est = NCCClassifier(**FAST)
    assert est.fit(X, y) is est
    assert est.classes_.tolist() == [0, 1] and isinstance(est.model_, NCC)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_allclose(proba[:, 1], ncc.score_pairs(X, est.model_), atol=1e-12)
    pred = est.predict(X)
    assert set(pred) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba[:, 1] > 0.5).astype(int))
    np.testing.assert_array_equal(est.decision_function(X) > 0, pred == 1)
    assert est.score(X, y) == np.mean(pred == y)
    # The reversed pairs get the complementary probabilities.
    np.testing.assert_allclose(est.predict_proba([p[:, ::-1] for p in X])[:, 1], proba[:, 0], atol=1e-6)


def test_fit_is_reproducible_with_random_state(pairs):
    X, y = pairs
    a = NCCClassifier(**FAST).fit(X, y).predict_proba(X)
    b = NCCClassifier(**FAST).fit(X, y).predict_proba(X)
    c = NCCClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_checks_its_input(pairs):
    X, y = pairs
    with pytest.raises(ValueError, match="one label per pair"):
        NCCClassifier(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="1 .*or 0"):
        NCCClassifier(**FAST).fit(X, np.where(y == 1, 1, -1))
    with pytest.raises(ValueError, match=r"X\[2\]"):
        NCCClassifier(**FAST).fit([*X[:2], np.zeros((5, 3)), *X[3:]], y)
    with pytest.raises(ValueError, match="list of"):
        NCCClassifier(**FAST).fit(np.zeros((10, 2)), np.zeros(10))


def test_clone_gives_an_unfitted_copy(pairs):
    X, y = pairs
    est = NCCClassifier(**FAST).fit(X, y)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and not hasattr(copy, "model_")
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), est.predict_proba(X))


def test_pickle_roundtrip_without_pickling_torch(pairs):
    X, y = pairs
    est = NCCClassifier(**{**FAST, "n_members": 2}).fit(X, y)
    assert isinstance(est.model_, NCCEnsemble)
    state = est.__getstate__()
    assert isinstance(state["model_"]["safetensors"], bytes)
    blob = pickle.dumps(est)
    modules = []

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            modules.append(module)
            return super().find_class(module, name)

    again = Recorder(io.BytesIO(blob)).load()
    assert modules and not [m for m in modules if m.split(".")[0] == "torch"]  # no torch object pickled
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert again.get_params() == est.get_params()
    unfitted = pickle.loads(pickle.dumps(NCCClassifier(steps=3)))
    assert unfitted.steps == 3 and not hasattr(unfitted, "model_")


def test_cross_val_score_and_grid_search_on_lists(pairs):
    X, y = pairs
    X = list(X)
    scores = cross_val_score(NCCClassifier(**FAST), X, y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
    grid = GridSearchCV(NCCClassifier(**FAST), {"lr": [1e-3, 1e-2]}, cv=2).fit(X, y)
    assert grid.best_params_["lr"] in (1e-3, 1e-2)
    assert grid.predict(X).shape == (len(X),)


def test_pretrained_wraps_a_model_file(tmp_path, monkeypatch, pairs):
    X, _ = pairs
    torch.manual_seed(0)
    model = NCC(NCCConfig(embed_dim=6, classifier_dim=5, max_points=40)).eval()
    path = ncc.save(model, tmp_path / "m.safetensors")
    est = NCCClassifier.pretrained(path)
    assert est.embed_dim == 6 and est.classifier_dim == 5 and est.max_points == 40
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], ncc.score_pairs(X, model), atol=1e-12)
    # model=None is the shipped model; a missing one is a clear error.
    ncc.save(model, tmp_path / "shipped" / "ncc-default.safetensors")
    monkeypatch.setattr(ncc.weights, "PRETRAINED_DIR", tmp_path / "shipped")  # the registry: the one place
    np.testing.assert_array_equal(NCCClassifier.pretrained().predict(X), est.predict(X))
    monkeypatch.setattr(ncc.weights, "PRETRAINED_DIR", tmp_path / "none")  # the registry: the one place
    with pytest.raises(ncc.serialization.ModelFileError, match="not installed"):
        NCCClassifier.pretrained()


def test_pretrained_keeps_the_hybrid_architecture_and_clone_refits_it():
    from sklearn.base import clone

    from ncc import NCCClassifier

    est = NCCClassifier.pretrained()
    assert est.statistics and est.copula and est.rounds == 1
    cfg = clone(est).set_params(embed_dim=4, classifier_dim=4, steps=2, batch_size=4)._model_config()
    assert cfg.statistics and cfg.copula  # a refit trains the same kind of network
    rng = np.random.default_rng(0)
    pairs = [rng.normal(size=(30, 2)) for _ in range(6)]
    fitted = NCCClassifier(embed_dim=4, classifier_dim=4, statistics=True, copula=True, steps=2, batch_size=4,
                           random_state=0).fit(pairs, [1, 0] * 3)
    proba = fitted.predict_proba(pairs)
    np.testing.assert_allclose(proba.sum(1), 1.0)


def test_hyper_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        NCCClassifier(8)  # as in scikit-learn: NCCClassifier(embed_dim=8)


@pytest.mark.parametrize("params, message", [
    ({"steps": -1}, r"^NCCClassifier\(steps=-1\): steps must be a positive integer$"),
    ({"n_members": 0}, r"^NCCClassifier\(n_members=0\): n_members must be a positive integer$"),
    ({"dropout": 1.5}, r"^NCCClassifier\(dropout=1\.5\): dropout must be in \[0, 1\)$"),
    ({"lr": "fast"}, r"^NCCClassifier\(lr='fast'\): lr must be a positive number$"),
    ({"optimizer": "sgd"}, r"^NCCClassifier\(optimizer='sgd'\): optimizer must be adam or rmsprop$"),
    ({"rounds": 3}, r"^NCCClassifier\(rounds=3\): rounds must be 1 or 2$"),
    ({"device": "tpu"}, r"^NCCClassifier\(device='tpu'\): device must be one of auto, cpu, cuda, cuda:N$"),
])
def test_bad_hyper_parameters_are_named_at_fit(pairs, params, message):
    X, y = pairs
    est = NCCClassifier(**{**FAST, **params})  # nothing is checked in __init__ (scikit-learn's rule)
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)


def test_scikit_learn_checks_of_the_parameters():
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
    )

    check_parameters_default_constructible("NCCClassifier", NCCClassifier())
    check_no_attributes_set_in_init("NCCClassifier", NCCClassifier())
    check_get_params_invariance("NCCClassifier", NCCClassifier())


def test_tags_say_samples_are_pairs_not_rows():
    tags = NCCClassifier().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False and tags.estimator_type == "classifier"
    assert tags.non_deterministic and not NCCClassifier(random_state=0).__sklearn_tags__().non_deterministic
