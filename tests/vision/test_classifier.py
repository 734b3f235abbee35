"""The class variable: log-odds, cross-fitting, degenerate categories."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vision.classifier import LogOddsClassifier, cross_fit_log_odds


def _noise(n=80, d=60, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, 2, size=(n, k))


@pytest.mark.parametrize("kind", ["logreg", "mlp"])
def test_cross_fitting_never_scores_an_image_with_a_classifier_that_saw_it(kind):
    # pure-noise labels: a classifier that saw an image memorises it (in-sample AUC ~1);
    # cross-fitted log-odds must be at chance level
    X, Y = _noise()
    kwargs = dict(kind=kind, max_iter=300, random_state=0)
    clf = LogOddsClassifier(hidden=(64, 64), **kwargs).fit(X, Y)
    in_sample = roc_auc_score(Y[:, 0], clf.decision_function(X)[:, 0])
    C, folds = cross_fit_log_odds(X, Y, n_folds=4, hidden=(64, 64), **kwargs)
    crossed = roc_auc_score(Y[:, 0], C[:, 0])
    assert in_sample > 0.95
    assert crossed < 0.75
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3]


def test_log_odds_are_the_pre_sigmoid_outputs():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5))
    Y = np.column_stack([(X[:, 0] > 0), (X[:, 1] + 0.5 * rng.normal(size=60) > 0)]).astype(int)
    clf = LogOddsClassifier(kind="mlp", hidden=(16, 16), max_iter=50, random_state=0).fit(X, Y)
    proba = clf.models_[0].predict_proba(clf.scaler_.transform(X))
    assert np.allclose(1 / (1 + np.exp(-clf.decision_function(X))), proba, atol=1e-9)
    lr = LogOddsClassifier(kind="logreg", random_state=0).fit(X, Y)
    p = lr.models_[0].predict_proba(lr.scaler_.transform(X))[:, 1]
    assert np.allclose(1 / (1 + np.exp(-lr.decision_function(X)[:, 0])), p)


def test_constant_category_gets_its_prior_and_is_flagged():
    X, Y = _noise(n=30, k=1)
    Y = np.column_stack([Y[:, 0], np.ones(30, int)])
    clf = LogOddsClassifier(kind="logreg", random_state=0).fit(X, Y)
    assert clf.constant_.tolist() == [False, True]
    out = clf.decision_function(X)
    assert np.allclose(out[:, 1], np.log(30.5 / 0.5))


def test_same_seed_same_log_odds():
    X, Y = _noise(n=40)
    a, _ = cross_fit_log_odds(X, Y, n_folds=3, hidden=(8, 8), max_iter=20, random_state=5)
    b, _ = cross_fit_log_odds(X, Y, n_folds=3, hidden=(8, 8), max_iter=20, random_state=5)
    assert np.array_equal(a, b)
