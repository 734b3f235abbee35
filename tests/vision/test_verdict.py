"""The report's one-line verdict follows the controls, not the sign test."""
from __future__ import annotations

from vision.verdict import verdict


def _report(*, label_p, perm_p, count=12, label_mean=6.0, perm_mean=0.2, twins=14, warnings=()):
    entry = {"n_categories": 20, "n_anticausal_greater": count, "sign_test_p": 1e-4,
             "permutation_p": perm_p, "permutation_null_mean": perm_mean,
             "label_permutation_p": label_p, "label_permutation_null_mean": label_mean,
             "marginal_matched_n_greater": twins}
    return {"tests": {"object_ratio": dict(entry), "context_ratio": dict(entry)}, "warnings": list(warnings)}


def test_refit_null_explains_a_shuffled_c_rejection():
    v = verdict(_report(label_p=0.55, perm_p=0.0099, warnings=["RANDOM WEIGHTS: x"]))
    assert v.startswith("Pipeline test only") and "no evidence" in v
    assert "comes from c being computed from the features" in v


def test_rejection_in_the_hypothesis_direction_reports_the_marginal_control():
    assert "marginal-matched control agrees" in verdict(_report(label_p=0.01, perm_p=0.01, twins=15))
    v = verdict(_report(label_p=0.01, perm_p=0.01, twins=8))
    assert "does not agree: the marginals may explain it" in v and "beat top-causal ones more often" in v
    v = verdict(_report(label_p=0.01, perm_p=0.01, count=1, label_mean=6.0))
    assert "less often" in v and "marginal-matched" not in v


def test_shuffled_c_alone_is_not_read_as_evidence():
    v = verdict(_report(label_p=None, perm_p=0.01))
    assert "confirm with --label-permutations" in v
    v = verdict(_report(label_p=None, perm_p=None))
    assert "no permutation control" in v and "assumes independent categories" in v
