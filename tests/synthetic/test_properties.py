"""Property tests: any valid configuration gives finite, standardised, well-labelled pairs."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic import CAUSES, KINDS, MECHANISMS, NOISES, make_pairs

kinds_st = st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)
size_st = st.one_of(st.integers(2, 120),
                    st.tuples(st.integers(2, 60), st.integers(0, 100)).map(lambda t: (t[0], t[0] + t[1])))


@settings(max_examples=40, deadline=None)
@given(n_pairs=st.integers(1, 9), n_points=size_st,
       mechanism=st.sampled_from([*MECHANISMS, "mix"]), cause=st.sampled_from([*CAUSES, "mix"]),
       noise=st.sampled_from([None, *NOISES, "mix"]), kinds=kinds_st,
       discretize_prob=st.sampled_from([0.0, 0.5, 1.0]), quantize_prob=st.sampled_from([0.0, 0.5]),
       confounder_prob=st.sampled_from([0.0, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_any_configuration(n_pairs, n_points, mechanism, cause, noise, kinds, discretize_prob,
                           quantize_prob, confounder_prob, seed):
    X, y, info = make_pairs(n_pairs, n_points=n_points, mechanism=mechanism, cause=cause,
                            noise=noise, kinds=kinds, discretize_prob=discretize_prob,
                            quantize_prob=quantize_prob, confounder_prob=confounder_prob, random_state=seed,
                            return_info=True)
    pairs = X if isinstance(X, list) else list(X)
    assert len(pairs) == n_pairs == len(y)
    for pair, size in zip(pairs, info["n_points"]):
        assert pair.dtype == np.float32 and pair.shape == (size, 2)
        assert np.isfinite(pair).all()
        np.testing.assert_allclose(pair.mean(axis=0), 0, atol=1e-4)
        sd = pair.std(axis=0)
        assert (np.abs(sd - 1) < 1e-3).all() or (sd == 0).any()
    assert ((y == -1) == (info["kind"] != "causal")).all()
    assert set(info["kind"]) <= set(kinds)
    causal = y[y >= 0]
    assert abs(int((causal == 1).sum()) - int((causal == 0).sum())) <= 1
