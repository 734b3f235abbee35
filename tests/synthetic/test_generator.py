"""make_pairs: shapes, dtypes, finiteness, standardisation, labels and kinds."""
import warnings

import numpy as np
import pytest

import synthetic
from synthetic import CAUSES, KINDS, MECHANISMS, make_pairs


def _unique_counts(pair):
    return len(np.unique(pair[:, 0])), len(np.unique(pair[:, 1]))


def test_default_shapes_and_dtypes():
    X, y = make_pairs(6, random_state=0)
    assert X.shape == (6, 1000, 2) and X.dtype == np.float32
    assert y.shape == (6,) and y.dtype.kind == "i"
    assert set(y.tolist()) <= {0, 1}


def test_ragged_sizes_are_in_range_and_vary():
    X, y, info = make_pairs(40, n_points=(50, 2000), random_state=1, return_info=True)
    assert isinstance(X, list) and len(X) == 40 == len(y)
    sizes = np.array([len(p) for p in X])
    assert all(p.dtype == np.float32 and p.shape[1] == 2 for p in X)
    assert sizes.min() >= 50 and sizes.max() <= 2000 and len(set(sizes)) > 30
    assert (info["n_points"] == sizes).all()
    # log-uniform: the median size sits near the geometric mean (316), far below 1025
    assert 150 < np.median(sizes) < 700


def test_range_with_equal_bounds():
    X, _ = make_pairs(3, n_points=(7, 7), random_state=0)
    assert [len(p) for p in X] == [7, 7, 7]


@pytest.mark.parametrize("cause", [*CAUSES, "mix"])
@pytest.mark.parametrize("mechanism", [*MECHANISMS, "mix"])
def test_every_family_and_cause_is_finite_and_standardised(mechanism, cause):
    X, y = make_pairs(6, n_points=200, mechanism=mechanism, cause=cause, random_state=3,
                      kinds="causal,independent,confounded", discretize_prob=0.5,
                      quantize_prob=0.3, noise="mix", confounder_prob=0.5)
    assert np.isfinite(X).all()
    std = X.std(axis=1)
    # a variable is standardised, or (degenerate, e.g. one rounded value) all zeros
    ok = (np.abs(std - 1) < 1e-3) | ((std == 0) & (np.abs(X).max(axis=1) == 0))
    assert ok.all()
    assert np.abs(X.mean(axis=1)).max() < 1e-4
    Xr, _ = make_pairs(4, n_points=(2, 60), mechanism=mechanism, cause=cause, random_state=4,
                       discretize_prob=1.0)
    assert all(np.isfinite(p).all() for p in Xr)


def test_standardised_per_pair_and_variable():
    X, _ = make_pairs(20, n_points=500, mechanism="mix", cause="mix", random_state=5)
    np.testing.assert_allclose(X.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=1), 1, atol=1e-4)
    Xr, _ = make_pairs(10, n_points=(20, 300), random_state=5)
    for p in Xr:
        np.testing.assert_allclose(p.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(p.std(axis=0), 1, atol=1e-4)


@pytest.mark.parametrize("n_pairs", [1, 2, 7, 64, 301])
def test_orientation_is_exactly_balanced(n_pairs):
    _, y = make_pairs(n_pairs, n_points=20, random_state=n_pairs)
    assert abs(int((y == 1).sum()) - int((y == 0).sum())) == n_pairs % 2


def test_which_pairs_are_reversed_is_random():
    firsts = {tuple(make_pairs(8, n_points=10, random_state=s)[1]) for s in range(6)}
    assert len(firsts) > 1


def test_reversed_pair_carries_flipped_label():
    # With a discretised cause and a continuous effect, the cause is the column with ties:
    # the label must point from that column to the other whichever way round it was put.
    X, y, info = make_pairs(60, n_points=400, mechanism="linear", discretize_prob=1.0,
                            noise="gaussian", random_state=6, return_info=True)
    for pair, label, rev in zip(X, y, info["reversed"]):
        u0, u1 = _unique_counts(pair)
        assert (u0 < u1) == (label == 1)
        assert rev == (label == 0)
    assert set(y.tolist()) == {0, 1}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_its_label(kind):
    X, y, info = make_pairs(20, n_points=1000, mechanism="linear", kinds=kind,
                            random_state=7, return_info=True)
    assert (info["kind"] == kind).all()
    if kind == "causal":
        assert set(y.tolist()) == {0, 1}
    else:
        assert (y == -1).all()
    corr = np.array([abs(np.corrcoef(p[:, 0], p[:, 1])[0, 1]) for p in X])
    if kind == "independent":  # shuffling destroyed the (linear) dependence
        assert corr.max() < 0.15
    else:  # a linear link, direct or through the confounder, leaves a correlation
        assert np.median(corr) > 0.5


def test_kind_weights_and_mixed_labels_agree_with_info():
    _, y, info = make_pairs(600, n_points=10, kinds=["causal", "independent", "confounded"],
                            kind_weights={"causal": 2, "independent": 1, "confounded": 1},
                            random_state=8, return_info=True)
    assert ((y == -1) == (info["kind"] != "causal")).all()
    share = (info["kind"] == "causal").mean()
    assert 0.42 < share < 0.58
    causal = y[y >= 0]
    assert abs(int((causal == 1).sum()) - int((causal == 0).sum())) <= 1


def test_mechanism_weights_select_families():
    _, _, info = make_pairs(200, n_points=10, mechanism="mix",
                            mechanism_weights={"nn": 1, "linear": 3}, random_state=9,
                            return_info=True)
    names, counts = np.unique(info["mechanism"], return_counts=True)
    assert names.tolist() == ["linear", "nn"]
    assert counts[0] > counts[1]
    _, _, info = make_pairs(300, n_points=10, mechanism="mix", random_state=9,
                            return_info=True)
    assert set(info["mechanism"]) == set(MECHANISMS)


def test_cause_mix_and_noise_defaults():
    _, _, info = make_pairs(100, n_points=10, mechanism="mix", cause="mix",
                            random_state=10, return_info=True)
    assert set(info["cause"]) == set(CAUSES)
    spline = info["mechanism"] == "spline"
    assert (info["noise"][spline] == "gaussian").all()  # the paper's noise
    assert len(set(info["noise"][~spline])) > 1


def test_discretised_causes_have_ties():
    X, y, info = make_pairs(10, n_points=1000, cause="mix", discretize_prob=1.0,
                            random_state=11, return_info=True)
    assert info["discretized"].all()
    for pair, label in zip(X, y):
        cause = pair[:, 0] if label == 1 else pair[:, 1]
        values = np.unique(cause)
        assert len(values) <= 200
        steps = np.diff(values)  # integers, standardised: equal steps on a grid
        np.testing.assert_allclose(steps / steps.min(), np.rint(steps / steps.min()), atol=1e-3)


def test_quantize_hits_either_column():
    X, _, info = make_pairs(40, n_points=500, quantize_prob=0.5, random_state=12,
                            return_info=True)
    q = info["quantized"]
    assert q.shape == (40, 2) and q[:, 0].any() and q[:, 1].any()
    for pair, flags in zip(X, q):
        for col in range(2):
            few = len(np.unique(pair[:, col])) <= 200
            if flags[col]:
                assert few


def test_info_fields():
    _, y, info = make_pairs(5, n_points=(3, 9), random_state=13, return_info=True)
    assert set(info) == {"mechanism", "kind", "cause", "noise", "discretized", "quantized",
                         "hidden_confounder", "reversed", "outliers", "n_points"}
    assert all(len(v) == 5 for v in info.values())


@pytest.mark.parametrize("kwargs, message", [
    ({"mechanism": "splines"}, "unknown mechanism 'splines'; valid: spline, linear"),
    ({"cause": "beta"}, "unknown cause 'beta'; valid: gmm, uniform"),
    ({"kinds": "causal,other"}, "unknown kind 'other'; valid: causal, independent, confounded"),
    ({"noise": "pink"}, "unknown noise 'pink'"),
    ({"n_points": 1}, "n_points must be >= 2, got 1"),
    ({"n_points": (10, 5)}, "malformed n_points range 10:5"),
    ({"n_points": (1, 5)}, "n_points must be >= 2, got 1"),
    ({"n_points": "a:b"}, "malformed n_points 'a:b'"),
    ({"n_points": (1, 2, 3)}, "malformed n_points range"),
    ({"mechanism_weights": {"nn": 1}}, "mechanism_weights needs mechanism='mix'"),
    ({"mechanism": "mix", "mechanism_weights": {"foo": 1}}, "unknown name 'foo' in mechanism_weights"),
    ({"mechanism": "mix", "mechanism_weights": {"nn": -1}}, "must be a finite number >= 0"),
    ({"mechanism": "mix", "mechanism_weights": {"nn": 0}}, "must have a positive total"),
    ({"kinds": "causal", "kind_weights": {"independent": 1}}, "unknown name 'independent' in kind_weights"),
    ({"discretize_prob": 1.5}, "discretize_prob must be a probability"),
    ({"kinds": ""}, "unknown kind ''"),
])
def test_bad_options_raise_value_error(kwargs, message):
    with pytest.raises(ValueError) as err:
        make_pairs(2, **kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("n_pairs", [0, -3, 2.5])
def test_bad_n_pairs(n_pairs):
    with pytest.raises(ValueError, match="n_pairs must be"):
        make_pairs(n_pairs)


def test_public_names():
    assert synthetic.MECHANISMS[0] == "spline" and len(synthetic.MECHANISMS) == 11
    assert synthetic.CAUSES == ("gmm", "uniform", "student_t", "lognormal")
    assert synthetic.KINDS == ("causal", "independent", "confounded")


def test_hidden_confounder_keeps_causal_labels():
    X, y, info = make_pairs(40, n_points=300, mechanism="mix", confounder_prob=0.5,
                            kinds="causal,independent", random_state=14, return_info=True)
    hidden = info["hidden_confounder"]
    assert hidden.any() and not hidden.all()
    assert (info["kind"][hidden] == "causal").all() and (y[hidden] >= 0).all()
    assert np.isfinite(X).all()
    np.testing.assert_allclose(X.std(axis=1), 1, atol=1e-3)
    # without the option nothing is confounded, and nothing else changes in the plan
    _, y0, info0 = make_pairs(40, n_points=300, mechanism="mix", kinds="causal,independent",
                              random_state=14, return_info=True)
    assert not info0["hidden_confounder"].any()
    np.testing.assert_array_equal(y0, y)


def test_outliers_hit_the_effect_only_and_only_when_asked():
    X0, y0 = make_pairs(40, n_points=400, mechanism="linear", cause="uniform", random_state=3)
    X1, y1, info = make_pairs(40, n_points=400, mechanism="linear", cause="uniform", outlier_prob=1.0,
                              random_state=3, return_info=True)
    assert info["outliers"].all() and np.array_equal(y0, y1)
    effect = lambda X, y: np.array([p[:, 1] if t == 1 else p[:, 0] for p, t in zip(X, y)])  # noqa: E731
    cause = lambda X, y: np.array([p[:, 0] if t == 1 else p[:, 1] for p, t in zip(X, y)])  # noqa: E731
    kurt = lambda v: np.mean(v ** 4, axis=1)  # noqa: E731  (columns are standardised)
    assert np.median(kurt(effect(X1, y1))) > np.median(kurt(effect(X0, y0))) + 1.0
    # A uniform cause keeps its flat marginal: the outliers are on the effect side.
    assert np.median(kurt(cause(X1, y1))) < 2.5
    # Without outliers the pairs are those of the same seed before the option existed.
    Xn, _ = make_pairs(40, n_points=400, mechanism="linear", cause="uniform", outlier_prob=0.0, random_state=3)
    assert np.array_equal(Xn, X0)


def test_noise_weights_set_the_noise_shapes():
    _, _, info = make_pairs(400, n_points=20, mechanism="linear", noise="mix", random_state=4, return_info=True,
                            noise_weights={"student_t": 1.0})
    assert set(info["noise"]) == {"student_t"}
    with pytest.raises(ValueError, match="noise_weights needs noise='mix'"):
        make_pairs(4, noise="gaussian", noise_weights={"gaussian": 1.0})
    with pytest.raises(ValueError, match="unknown name 'pink'"):
        make_pairs(4, noise="mix", noise_weights={"pink": 1.0})


def test_standardise_survives_float32_overflow_of_squares():
    from synthetic._layout import DenseLayout, standardise

    layout = DenseLayout(2, 4)
    a = np.array([[3e19, -2e19, 1e19, 0.0], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = standardise(layout, a)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(z.std(axis=1), 1.0, rtol=1e-5)
