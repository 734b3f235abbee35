"""The NCC network: set function, padding, antisymmetry, standardisation, batch norm, ensembles."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from ncc.data import pad_pairs
from ncc.model import NCC, NCCConfig, NCCEnsemble, pack, standardize

TINY = NCCConfig(embed_dim=16, classifier_dim=16)


def _pairs(seed: int, sizes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        x = rng.normal(size=n) * rng.uniform(0.1, 10) + rng.normal() * 5
        out.append(np.c_[x, np.sin(x) + 0.3 * rng.normal(size=n)])
    return out


def _score(model, pairs) -> np.ndarray:
    points, mask = pad_pairs(pairs)
    with torch.no_grad():
        scores, _ = model.score(points, mask)
    return scores.numpy()


@pytest.fixture(scope="module")
def model(train_tiny) -> NCC:
    return train_tiny(TINY)


def test_config_defaults_are_the_paper():
    c = NCCConfig()
    assert (c.embed_dim, c.embed_layers, c.classifier_dim, c.classifier_layers) == (100, 2, 100, 2)
    assert c.dropout == 0.25 and c.batchnorm and c.max_points == 5000
    assert NCCConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize("bad", [dict(embed_dim=0), dict(dropout=1.0), dict(embed_layers=-1),
                                 dict(classifier_layers=-1), dict(max_points=1), dict(embed_dim=2.5)])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        NCCConfig(**bad)


def test_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown"):
        NCCConfig.from_dict({"embed_dim": 3, "bogus": 1})


def test_architecture_matches_config():
    model = NCC(NCCConfig(embed_dim=7, embed_layers=3, classifier_dim=5, classifier_layers=1))
    assert len(model.phi) == 3 and len(model.psi) == 1
    assert model.phi[0].linear.in_features == 2 and model.phi[2].linear.out_features == 7
    assert model.psi[0].linear.in_features == 7 and model.head.in_features == 5
    assert isinstance(model.phi[0].norm, torch.nn.BatchNorm1d)
    assert model.phi[0].dropout.p == 0.25
    plain = NCC(NCCConfig(batchnorm=False, dropout=0.0, classifier_layers=0))
    assert plain.phi[0].norm is None and plain.phi[0].dropout is None and plain.head.in_features == 100


def test_scores_are_probabilities_and_exactly_antisymmetric(model):
    pairs = _pairs(1, [30, 50, 77])
    s = _score(model, pairs)
    s_rev = _score(model, [p[:, ::-1] for p in pairs])
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + s_rev, 1.0, atol=1e-6)
    assert not np.allclose(s, 0.5, atol=1e-4)  # the test would be vacuous for a constant model


def test_logits_of_reversed_pair_are_swapped(model):
    points = torch.randn(3, 25, 2)
    with torch.no_grad():
        logits = model(points)
        logits_rev = model(points.flip(-1))
    torch.testing.assert_close(logits_rev, logits.flip(-1), atol=1e-5, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 60))
def test_point_order_does_not_matter(model, seed, n):
    (pair,) = _pairs(seed, [n])
    perm = np.random.default_rng(seed).permutation(n)
    np.testing.assert_allclose(_score(model, [pair]), _score(model, [pair[perm]]), atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), sizes=st.lists(st.integers(2, 50), min_size=1, max_size=6),
       pad=st.integers(0, 30))
def test_padding_and_batch_composition_do_not_matter(model, seed, sizes, pad):
    pairs = _pairs(seed, sizes)
    alone = np.array([_score(model, [p])[0] for p in pairs])
    # Extra padding, garbage (NaN) in the padded slots and other pairs in the batch change nothing.
    n_max = max(sizes) + pad
    padded = torch.full((len(pairs), n_max, 2), float("nan"), dtype=torch.float64)
    full_mask = torch.zeros(len(pairs), n_max, dtype=torch.bool)
    for i, p in enumerate(pairs):
        padded[i, :len(p)] = torch.from_numpy(p)
        full_mask[i, :len(p)] = True
    with torch.no_grad():
        batched, _ = model.score(padded, full_mask)
    np.testing.assert_allclose(batched.numpy(), alone, atol=1e-6)
    assert np.isfinite(batched.numpy()).all()


def test_standardisation_is_inside_the_model(model):
    pairs = _pairs(3, [40, 60])
    moved = [p * np.array([1e4, 1e-3]) + np.array([-7.0, 1e6]) for p in pairs]
    np.testing.assert_allclose(_score(model, pairs), _score(model, moved), atol=1e-6)


def test_standardize_zero_mean_unit_variance():
    points = torch.tensor([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [5.0, 0.0], [7.0, 1.0]], dtype=torch.float64)
    lengths = torch.tensor([3, 2])
    z, constant = standardize(points, lengths)
    assert constant.tolist() == [True, False]
    np.testing.assert_allclose(z[:3, 0].numpy(), [-1.2247449, 0, 1.2247449], atol=1e-6)
    assert torch.all(z[:3, 1] == 0)  # the constant variable maps to zeros, not NaN
    np.testing.assert_allclose(z[3:].numpy(), [[-1, -1], [1, 1]], atol=1e-6)


def test_constant_variable_scores_one_half_and_is_flagged(model):
    rng = np.random.default_rng(0)
    pairs = [np.c_[rng.normal(size=30), np.full(30, 3.25)], np.c_[np.full(20, 1e9), rng.normal(size=20)],
             np.c_[rng.normal(size=25), rng.normal(size=25)]]
    points, mask = pad_pairs(pairs)
    with torch.no_grad():
        scores, constant = model.score(points, mask)
    assert constant.tolist() == [True, True, False]
    assert scores[0].item() == 0.5 and scores[1].item() == 0.5


@pytest.mark.parametrize("ragged", [True, False])
def test_eval_blocks_equal_one_pass(model, ragged):
    """The cache-friendly eval path (φ in groups of whole pairs) gives the one-big-pass result."""
    points = torch.randn(9, 700, 2, dtype=torch.float64)
    mask = torch.ones(9, 700, dtype=torch.bool)
    if ragged:
        mask[2, 300:] = False
        mask[5, 10:] = False
    packed, lengths = pack(points, mask)
    z, _ = standardize(packed, lengths)
    with torch.no_grad():
        blocked = model.embed(z, lengths)
        one_pass = model._embed(z, lengths)
    assert packed.shape[0] > model.eval_block_points  # the blocked path really ran
    torch.testing.assert_close(blocked, one_pass, atol=1e-5, rtol=1e-5)


def test_training_batchnorm_ignores_padding():
    """Batch-norm statistics (and so gradients and running stats) depend on real points only."""
    torch.manual_seed(0)
    pairs = _pairs(5, [12, 30, 7])
    results = []
    for pad, fill in ((0, 0.0), (25, 1e6)):
        torch.manual_seed(0)
        model = NCC(NCCConfig(embed_dim=8, classifier_dim=8, dropout=0.0)).train()
        points, mask = pad_pairs(pairs)
        if pad:
            points = torch.cat([points, torch.full((3, pad, 2), fill, dtype=points.dtype)], 1)
            mask = torch.cat([mask, torch.zeros(3, pad, dtype=torch.bool)], 1)
        logits = model(points, mask)
        logits.sum().backward()
        results.append((logits.detach(), model.phi[0].norm.running_mean.clone(), model.phi[0].linear.weight.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_training_mode_uses_both_orientations_in_batchnorm():
    """In training, φ's batch norm sees (x, y) and (y, x) alike, so its running mean is symmetric
    in the first layer's two input weights (a check that reversals really are in the batch)."""
    torch.manual_seed(0)
    model = NCC(NCCConfig(embed_dim=4, classifier_dim=4, dropout=0.0, batchnorm=True)).train()
    points = torch.randn(4, 50, 2)
    model(points)
    w = model.phi[0].linear.weight.detach()
    b = model.phi[0].linear.bias.detach()
    z, _ = standardize(points.reshape(-1, 2), torch.full((4,), 50))
    both = torch.cat([z, z.flip(-1)])
    expected = 0.1 * (both @ w.T + b).mean(0)  # momentum 0.1 from a zero running mean
    torch.testing.assert_close(model.phi[0].norm.running_mean, expected, atol=1e-5, rtol=1e-4)


def test_ensemble_score_is_mean_of_members(train_tiny):
    members = [train_tiny(TINY, seed) for seed in (1, 2, 3)]
    ensemble = NCCEnsemble(members).eval()
    pairs = _pairs(7, [20, 35])
    expected = np.mean([_score(m, pairs) for m in members], axis=0)
    np.testing.assert_allclose(_score(ensemble, pairs), expected, atol=1e-9)
    rev = _score(ensemble, [p[:, ::-1] for p in pairs])
    np.testing.assert_allclose(_score(ensemble, pairs) + rev, 1.0, atol=1e-6)
    assert ensemble(*pad_pairs(pairs)).shape == (3, 2, 2)


def test_ensemble_rejects_mixed_configs():
    with pytest.raises(ValueError, match="share"):
        NCCEnsemble([NCC(TINY), NCC(NCCConfig(embed_dim=8, classifier_dim=16))])
    with pytest.raises(ValueError):
        NCCEnsemble([])


def test_pack_checks_shapes():
    with pytest.raises(ValueError):
        pack(torch.zeros(3, 4))
    with pytest.raises(ValueError):
        pack(torch.zeros(2, 4, 2), torch.ones(2, 5, dtype=torch.bool))


def test_fast_dropout_rate_scale_and_eval_identity():
    from ncc.model import FastDropout

    torch.manual_seed(0)
    drop = FastDropout(0.25).train()
    h = torch.ones(400, 500)
    out = drop(h)
    kept = (out != 0).float().mean().item()
    assert abs(kept - 0.75) < 0.005 and torch.allclose(out[out != 0], torch.tensor(1 / 0.75))
    assert abs(out.mean().item() - 1.0) < 0.01  # inverted dropout keeps the expectation
    assert torch.equal(drop.eval()(h), h)
    torch.manual_seed(1)
    a = FastDropout(0.1).train()(h)
    torch.manual_seed(1)
    assert torch.equal(a, FastDropout(0.1).train()(h))  # the torch seed fixes the masks
    assert abs((a == 0).float().mean().item() - 0.1) < 0.005


def test_dense_block_training_pass_equals_the_textbook_layer():
    """Linear → BatchNorm → ReLU → Dropout, whatever the fused implementation does."""
    import copy

    from ncc.model import DenseBlock

    torch.manual_seed(0)
    block = DenseBlock(5, 7, dropout=0.25, batchnorm=True).train()
    reference = copy.deepcopy(block)
    h = torch.randn(64, 5, requires_grad=True)
    torch.manual_seed(42)
    out = block(h)
    torch.manual_seed(42)
    keep = reference.dropout.keep_mask(torch.empty(64, 7))
    expected = torch.relu(reference.norm(reference.linear(h))) * keep / 0.75
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(block.norm.running_mean, reference.norm.running_mean)
    torch.testing.assert_close(block.norm.running_var, reference.norm.running_var)
    grad_fused = torch.autograd.grad(out.square().sum(), h)[0]
    grad_reference = torch.autograd.grad(expected.square().sum(), h)[0]
    torch.testing.assert_close(grad_fused, grad_reference)
    # Eval mode: batch norm folded into the linear layer, same function as the modules in eval.
    block.eval()
    reference.eval()
    torch.testing.assert_close(block(h), torch.relu(reference.norm(reference.linear(h))))


def test_reference_path_equals_the_fused_one_in_eval():
    """The plain layers (used off the CPU) give the fused CPU scores, for every architecture option."""
    for config in (NCCConfig(embed_dim=16, classifier_dim=16),
                   NCCConfig(embed_dim=16, classifier_dim=16, statistics=True, copula=True, rounds=2)):
        torch.manual_seed(0)
        model = NCC(config)
        model.train()
        for _ in range(3):  # non-trivial running statistics
            model(torch.randn(8, 50, 2))
        model.eval()
        x = torch.randn(6, 80, 2)
        with torch.no_grad():
            fused = model(x)
            plain = model.set_fused(False)(x)
        model.set_fused(True)
        torch.testing.assert_close(plain, fused, rtol=1e-5, atol=1e-6)


def test_reference_path_equals_the_fused_one_in_expectation_in_training():
    import copy

    from ncc.model import DenseBlock

    torch.manual_seed(0)
    fused = DenseBlock(5, 7, dropout=0.25, batchnorm=True).train()
    plain = copy.deepcopy(fused)
    plain.fused = False
    h = torch.randn(64, 5)
    with torch.no_grad():
        expected = torch.relu(F.batch_norm(fused.linear(h), None, None, fused.norm.weight, fused.norm.bias,
                                           training=True))  # dropout keeps the mean: E[mask / (1 − p)] = 1
        for block in (fused, plain):
            draws = torch.stack([block(h) for _ in range(3000)])
            standard_error = draws.std(0) / 3000 ** 0.5
            assert ((draws.mean(0) - expected).abs() <= 5 * standard_error + 1e-4).all()
    torch.testing.assert_close(plain.norm.running_mean, fused.norm.running_mean)  # same batch statistics
    no_drop = DenseBlock(5, 7, dropout=0.0, batchnorm=True).train()
    twin = copy.deepcopy(no_drop)
    twin.fused = False
    torch.testing.assert_close(twin(h), no_drop(h))  # without dropout: equal, not only in expectation
    assert set(fused.state_dict()) == set(plain.state_dict())  # model files do not change


# ---------------------------------------------------------------------------------- hybrid NCC
HYBRID = NCCConfig(embed_dim=16, classifier_dim=16, statistics=True)


@pytest.fixture(scope="module")
def hybrid(train_tiny) -> NCC:
    return train_tiny(HYBRID, seed=3)


def test_hybrid_classifier_reads_both_orientations_statistics():
    from ncc.statistics import N_STATISTICS

    model = NCC(HYBRID)
    assert model.psi[0].linear.in_features == 16 + 2 * N_STATISTICS
    flat = NCC(NCCConfig(embed_dim=16, classifier_layers=0, statistics=True))
    assert flat.head.in_features == 16 + 2 * N_STATISTICS


def test_hybrid_statistics_change_the_score(hybrid):
    # Zeroing ψ's weights on the statistics must move the scores: they are really read.
    pairs = _pairs(4, [200, 300])
    before = _score(hybrid, pairs)
    blind = NCC(HYBRID)
    blind.load_state_dict(hybrid.state_dict())
    with torch.no_grad():
        blind.psi[0].linear.weight[:, 16:] = 0
    assert np.abs(_score(blind.eval(), pairs) - before).max() > 1e-4


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_hybrid_antisymmetric_and_order_invariant(hybrid, seed):
    rng = np.random.default_rng(seed)
    pairs = _pairs(seed, [int(rng.integers(10, 120)) for _ in range(3)])
    pairs[0] = np.round(pairs[0])  # ties in both variables
    s = _score(hybrid, pairs)
    swapped = _score(hybrid, [p[:, ::-1] for p in pairs])
    np.testing.assert_allclose(s + swapped, 1.0, atol=1e-12)
    shuffled = _score(hybrid, [p[rng.permutation(len(p))] for p in pairs])
    np.testing.assert_allclose(shuffled, s, atol=1e-6)


def test_hybrid_batch_equals_one_by_one(hybrid):
    pairs = _pairs(5, [15, 200, 64, 1000])
    together = _score(hybrid, pairs)
    alone = np.concatenate([_score(hybrid, [p]) for p in pairs])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_hybrid_ensemble_is_the_mean_of_its_members(train_tiny, hybrid):
    other = train_tiny(HYBRID, seed=4)
    pairs = _pairs(6, [50, 80])
    ens = NCCEnsemble([hybrid, other]).eval()
    np.testing.assert_allclose(_score(ens, pairs), (_score(hybrid, pairs) + _score(other, pairs)) / 2, atol=1e-12)


# ---------------------------------------------------------------------------- two-round network
TWO_ROUNDS = NCCConfig(embed_dim=12, classifier_dim=12, rounds=2, statistics=True)


@pytest.fixture(scope="module")
def two_rounds(train_tiny) -> NCC:
    return train_tiny(TWO_ROUNDS, seed=5)


def test_two_rounds_config():
    assert NCC(TWO_ROUNDS).phi2[0].linear.in_features == 24
    assert NCC(TINY).phi2 is None
    with pytest.raises(ValueError, match="rounds"):
        NCCConfig(rounds=3)


def test_two_rounds_antisymmetric_order_invariant_and_batch_independent(two_rounds):
    rng = np.random.default_rng(9)
    pairs = _pairs(9, [30, 250, 3000])
    s = _score(two_rounds, pairs)
    np.testing.assert_allclose(s + _score(two_rounds, [p[:, ::-1] for p in pairs]), 1.0, atol=1e-12)
    np.testing.assert_allclose(_score(two_rounds, [p[rng.permutation(len(p))] for p in pairs]), s, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([_score(two_rounds, [p]) for p in pairs]), s, atol=1e-6)


def test_two_rounds_second_look_matters(two_rounds):
    # The second round is really used: zeroing its first-round context input moves the scores.
    pairs = _pairs(10, [200])
    blind = NCC(TWO_ROUNDS)
    blind.load_state_dict(two_rounds.state_dict())
    with torch.no_grad():
        blind.phi2[0].linear.weight[:, 12:] = 0
    assert abs(_score(blind.eval(), pairs) - _score(two_rounds, pairs)).max() > 1e-4


# ------------------------------------------------------------------------ copula coordinates
COPULA = NCCConfig(embed_dim=12, classifier_dim=12, copula=True, statistics=True)


def test_midranks_share_ties_and_ignore_the_other_variable():
    from ncc.statistics import midranks

    pts = torch.tensor([[1.0, 5.0], [2.0, 5.0], [2.0, 6.0], [3.0, 7.0], [9.0, 9.0], [8.0, 9.0]])
    r = midranks(pts, torch.tensor([4, 2]))
    np.testing.assert_allclose(r[:4, 0], [-1, 0, 0, 1])  # x = 1, 2, 2, 3: the tie shares 1.5 of 0..3
    np.testing.assert_allclose(r[:4, 1], [-2 / 3, -2 / 3, 1 / 3, 1])
    np.testing.assert_allclose(r[4:], [[1, 0], [-1, 0]])  # its own pair only; a full tie sits at 0


def test_copula_network_is_a_set_function_and_antisymmetric(train_tiny):
    model = train_tiny(COPULA, seed=6)
    assert model.phi[0].linear.in_features == 4
    rng = np.random.default_rng(11)
    pairs = [np.round(p, 1) for p in _pairs(11, [40, 300, 90])]  # many ties
    s = _score(model, pairs)
    np.testing.assert_allclose(s + _score(model, [p[:, ::-1] for p in pairs]), 1.0, atol=1e-12)
    np.testing.assert_allclose(_score(model, [p[rng.permutation(len(p))] for p in pairs]), s, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([_score(model, [p]) for p in pairs]), s, atol=1e-6)
