"""Cleaning, statuses and the single batched scorer call."""
from __future__ import annotations

import numpy as np
import pytest

from ncc.formats import PairRecord, status_code, write_tuebingen
from ncc.scoring import MIN_POINTS, ScoredPair, clean_record, compare_methods, score_records


def _rec(data, pid="p", truth=None, status="ok"):
    return PairRecord(pid, None if data is None else np.asarray(data, dtype=float), truth, 1.0, status)


class CountingScorer:
    """Stand-in for ncc.score_pairs: records its calls, scores by the sign of the correlation."""

    def __init__(self):
        self.calls = []

    def __call__(self, pairs):
        self.calls.append([p.copy() for p in pairs])
        for p in pairs:
            assert np.all(np.isfinite(p)) and p.shape[1] == 2
        return np.array([0.8 if np.corrcoef(p.T)[0, 1] > 0 else 0.2 for p in pairs])


def _line(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return np.c_[x, 2 * x + 0.1 * rng.normal(size=n)]


def test_nan_rows_are_dropped_and_reported():
    d = _line()
    d[[1, 4], 0] = np.nan
    d[7, 1] = np.inf
    c = clean_record(_rec(d))
    assert c.status == "ok (dropped 3 non-finite rows)" and c.n_points == 27 and c.scorable
    assert np.all(np.isfinite(c.data))
    d1 = _line()
    d1[0, 0] = -np.inf
    assert clean_record(_rec(d1)).status == "ok (dropped 1 non-finite row)"


def test_too_few_after_dropping():
    d = _line(12)
    d[:5, 1] = np.nan
    c = clean_record(_rec(d))
    assert status_code(c.status) == "too_few_points" and "dropped 5" in c.status and not c.scorable


def test_too_few_points():
    c = clean_record(_rec(_line(MIN_POINTS - 1)))
    assert status_code(c.status) == "too_few_points" and c.n_points == MIN_POINTS - 1
    assert clean_record(_rec(_line(MIN_POINTS))).status == "ok"


def test_constant_variable():
    d = _line()
    d[:, 0] = 3.0
    c = clean_record(_rec(d))
    assert status_code(c.status) == "constant" and "column 1" in c.status and not c.scorable


def test_reader_status_passes_through():
    c = clean_record(_rec(None, status="non_numeric (line 3: 'x')"))
    assert c.status == "non_numeric (line 3: 'x')" and c.data is None


def test_one_batched_call_and_every_bad_pair_gets_a_row():
    const = _line()
    const[:, 1] = 1.0
    nan_rows = _line(seed=2)
    nan_rows[3] = np.nan
    records = [
        _rec(_line(seed=1), "good"),
        _rec(const, "const"),
        _rec(_line(5), "short"),
        _rec(None, "bad", status="unequal_lengths (A has 3, B has 2)"),
        _rec(-_line(seed=3)[:, ::-1] * [1, -1], "neg"),
        _rec(nan_rows, "nanrows"),
        _rec(None, "multi", status="multivariate (cause columns 1-2, effect columns 3-3)"),
    ]
    scorer = CountingScorer()
    out = score_records(records, scorer)
    assert len(scorer.calls) == 1 and len(scorer.calls[0]) == 3  # good, neg, nanrows
    by_id = {r.pair_id: r for r in out}
    assert [r.pair_id for r in out] == [r.pair_id for r in records]
    assert by_id["good"].score == 0.8 and by_id["good"].direction == "->"
    assert by_id["neg"].score == 0.2 and by_id["neg"].direction == "<-"
    assert by_id["const"].score == 0.5 and by_id["const"].direction == ""
    assert by_id["nanrows"].n_points == 29 and "dropped 1" in by_id["nanrows"].status
    for pid in ("short", "bad", "multi"):
        assert by_id[pid].score is None and not by_id[pid].scored


def test_no_scorable_pair_never_calls_the_scorer():
    scorer = CountingScorer()
    out = score_records([_rec(None, status="empty_file")], scorer)
    assert scorer.calls == [] and out[0].status == "empty_file"


def test_scorer_with_wrong_output_length_is_an_error():
    with pytest.raises(RuntimeError, match="shape"):
        score_records([_rec(_line())], lambda pairs: np.zeros(2))


def test_direction_property():
    assert ScoredPair("a", 0.51, 10, "ok").direction == "->"
    assert ScoredPair("a", 0.49, 10, "ok").direction == "<-"
    assert ScoredPair("a", None, None, "empty_file").direction == ""


def test_compare_methods_uses_the_same_pairs(tmp_path):
    pairs = [_line(seed=i) for i in range(6)] + [_line(5)]
    write_tuebingen(tmp_path, pairs, truths=[1, 0, 1, 0, 1, 0, 1], weights=[1, 1, 2, 2, 1, 1, 1])
    from ncc.formats import read_pairs

    recs = read_pairs(tmp_path, with_truth=True)
    recs.append(_rec(_line(seed=9), "no_truth"))
    comp = compare_methods(recs, {"a": CountingScorer(), "always": lambda p: np.full(len(p), 0.9)},
                           seed=0, n_boot=200)
    assert comp.skipped == {"too_few_points": 1, "no_truth": 1}
    assert len(comp.pair_ids) == 6
    # all positive correlations -> "a" always says 1; truths alternate -> accuracy 0.5
    assert comp.metrics["a"].accuracy == pytest.approx(0.5)
    assert comp.metrics["always"].weighted_accuracy == pytest.approx(4 / 8)
    assert comp.metrics["a"].ci_low == comp.metrics["always"].ci_low  # identical resamples


# -- issue 11, case 6: extreme finite scales, and non-finite scores never "ok" -------------------

@pytest.mark.parametrize("scale", [1e300, 1e-200, 1e-300, 1e154, 1e-154])
def test_extreme_scales_standardise_like_unit_scale(scale):
    import torch

    from ncc.model import standardize

    rng = np.random.default_rng(0)
    pair = np.c_[rng.normal(size=200), rng.normal(size=200)]
    lengths = torch.tensor([200])
    ref, _ = standardize(torch.as_tensor(pair), lengths, torch.float64)
    out, constant = standardize(torch.as_tensor(pair * scale), lengths, torch.float64)
    assert torch.isfinite(out).all() and not constant.any()
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-9)


def test_extreme_scales_score_like_unit_scale():
    import ncc

    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, 300)
    pair = np.c_[x, np.tanh(x) + 0.1 * rng.normal(size=300)]
    scores = ncc.score_pairs([pair, pair * 1e300, pair * 1e-200, np.c_[pair[:, 0] * 1e300, pair[:, 1] * 1e-300]])
    np.testing.assert_allclose(scores, scores[0], atol=1e-6)


def test_non_finite_scores_get_a_status_not_ok():
    from ncc.formats import PairRecord
    from ncc.scoring import compare_methods, score_records

    rng = np.random.default_rng(2)
    recs = [PairRecord(f"p{i}", rng.normal(size=(30, 2)), 1, 1.0, "ok", "test") for i in range(3)]
    nan_for_second = lambda pairs: np.array([0.7, np.nan, 0.2])  # noqa: E731
    out = score_records(recs, nan_for_second)
    assert [p.status.split()[0] for p in out] == ["ok", "score_not_finite", "ok"]
    assert out[1].score is None and out[1].direction == ""
    comp = compare_methods(recs, {"m": nan_for_second}, n_boot=10)
    assert comp.scores["m"][1] == 0.5 and any("score_not_finite" in k for k in comp.skipped)
