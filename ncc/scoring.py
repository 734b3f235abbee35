"""Pair records -> cleaning -> statuses -> one batched scoring call.

One bad pair never stops a batch: each record leaves with a status, and only the pairs that
can be scored reach the (expensive) scorer, in a single call.

Statuses (:class:`~ncc.formats.PairStatus`: a :class:`~ncc.formats.StatusCode` plus a detail):

* ``ok`` / ``ok (dropped k non-finite rows)`` -- scored;
* ``constant`` -- a variable takes one value: no direction, score 0.5;
* ``too_few_points`` -- fewer than ``min_points`` finite rows;
* ``score_not_finite`` -- the scorer returned NaN or inf for the pair (never reported as ``ok``);
* any status set by the reader (``non_numeric``, ``empty_file``, ``unequal_lengths``,
  ``multivariate``, ...) -- not scored.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ncc.formats import PairRecord, PairStatus, StatusCode

MIN_POINTS = 10  # below this no method can tell a direction; the issue fixes the minimum at 10

Scorer = Callable[[list[np.ndarray]], np.ndarray]


def direction_of(score: float | None) -> str:
    """``->`` when the first column causes the second, ``<-`` for the reverse, empty for no call."""
    if score is None or score == 0.5:
        return ""
    return "->" if score > 0.5 else "<-"


def cleaning_status(n: int, min_points: int, constant: Sequence[str], note: str) -> PairStatus:
    """The status of a pair left with ``n`` finite rows; ``constant`` names its one-valued
    variables, ``note`` says what was dropped. Shared by pair files and table columns."""
    if n < min_points:
        return PairStatus(StatusCode.TOO_FEW_POINTS, f"{n} < {min_points}" + (f", after {note}" if note else ""))
    if constant:
        return PairStatus(StatusCode.CONSTANT, " and ".join(constant) + (f"; {note}" if note else ""))
    return PairStatus(StatusCode.OK, note)


def checked_score(value: float, status: PairStatus) -> tuple[float | None, PairStatus]:
    """A scorer's value for an ``ok`` pair, or no value and ``score_not_finite`` (never ``ok``)."""
    if np.isfinite(value):
        return value, status
    return None, PairStatus(StatusCode.SCORE_NOT_FINITE, f"the scorer returned {value}")


@dataclass
class ScoredPair:
    """One output row of `ncc score`."""

    pair_id: str
    score: float | None
    n_points: int | None
    status: PairStatus

    @property
    def direction(self) -> str:
        return direction_of(self.score)

    @property
    def scored(self) -> bool:
        return self.score is not None


@dataclass
class CleanPair:
    """A record after cleaning: ``data`` is finite and ready for a scorer, or ``None``."""

    record: PairRecord
    data: np.ndarray | None
    status: PairStatus
    n_points: int | None

    @property
    def scorable(self) -> bool:
        """Needs a scorer call (constant pairs are decided without one)."""
        return self.data is not None and self.status.code is StatusCode.OK


def clean_record(rec: PairRecord, min_points: int = MIN_POINTS) -> CleanPair:
    """Drop non-finite rows and give the record its scoring status."""
    if rec.data is None or rec.status.code is not StatusCode.OK:
        return CleanPair(rec, None, rec.status, rec.n_points)
    data = np.asarray(rec.data, dtype=float)
    finite = np.isfinite(data).all(axis=1)
    dropped = int((~finite).sum())
    data = data[finite]
    note = f"dropped {dropped} non-finite row{'s' if dropped != 1 else ''}" if dropped else ""
    constant = [f"column {i + 1}" for i in range(2) if len(data) and data[:, i].max() == data[:, i].min()]
    status = cleaning_status(len(data), min_points, constant, note)
    return CleanPair(rec, None if status.code is StatusCode.TOO_FEW_POINTS else data, status, len(data))


def clean_records(records: Sequence[PairRecord], min_points: int = MIN_POINTS) -> list[CleanPair]:
    return [clean_record(r, min_points) for r in records]


def score_clean(cleaned: Sequence[CleanPair], scorer: Scorer) -> list[ScoredPair]:
    """Run ``scorer`` once on every scorable pair; constant pairs get 0.5, the rest no score."""
    todo = [c.data for c in cleaned if c.scorable]
    scores = np.asarray(scorer(todo), dtype=float) if todo else np.empty(0)
    if scores.shape != (len(todo),):
        raise RuntimeError(f"scorer returned shape {scores.shape} for {len(todo)} pairs")
    out, k = [], 0
    for c in cleaned:
        if c.scorable:
            value, status = checked_score(float(scores[k]), c.status)
            out.append(ScoredPair(c.record.pair_id, value, c.n_points, status))
            k += 1
        elif c.status.code is StatusCode.CONSTANT:
            out.append(ScoredPair(c.record.pair_id, 0.5, c.n_points, c.status))
        else:
            out.append(ScoredPair(c.record.pair_id, None, c.n_points, c.status))
    return out


def ncc_scorer(model=None, **kwargs) -> Scorer:
    """A scorer backed by :func:`ncc.score_pairs` (``model``: None, a path or a loaded model)."""

    def run(pairs: list[np.ndarray]) -> np.ndarray:
        import ncc

        return ncc.score_pairs(pairs, model=model, **kwargs)

    return run


def link_scorer(link_model=None, **kwargs) -> Scorer:
    """A scorer of P(no causal link) backed by :func:`ncc.link_scores` (same cleaning and
    statuses as the direction scorer, so both give values for the very same pairs)."""

    def run(pairs: list[np.ndarray]) -> np.ndarray:
        import ncc

        return ncc.link_scores(pairs, link_model=link_model, **kwargs)

    return run


def relation_of(direction: ScoredPair, link: ScoredPair) -> tuple[float, float, float] | None:
    """(p_xy, p_yx, p_none) of one pair from its direction and link rows, or None when either
    has no value: p_xy = (1 − p_none) s, p_yx = (1 − p_none)(1 − s)."""
    if direction.score is None or link.score is None:
        return None
    r = link.score
    return (1.0 - r) * direction.score, (1.0 - r) * (1.0 - direction.score), r


def score_records(records: Sequence[PairRecord], scorer: Scorer | None = None, *,
                  model=None, min_points: int = MIN_POINTS) -> list[ScoredPair]:
    """Clean, then score with ``scorer`` (default: NCC with ``model``)."""
    return score_clean(clean_records(records, min_points), scorer or ncc_scorer(model))


@dataclass
class Comparison:
    """Several methods scored on the very same pairs, with their metrics."""

    pair_ids: list[str]
    truth: np.ndarray
    weights: np.ndarray
    scores: dict[str, np.ndarray]
    metrics: dict[str, "object"]  # name -> ncc.metrics.DirectionMetrics
    skipped: dict[str, int]  # status code -> count of pairs left out (no score or no truth)


def compare_methods(records: Sequence[PairRecord], methods: dict[str, Scorer], *, seed: int = 0,
                    n_boot: int = 2000, min_points: int = MIN_POINTS) -> Comparison:
    """Score the pairs that have a truth and can be scored with every method; same bootstrap
    resamples for every method so their intervals are comparable."""
    from ncc.metrics import bootstrap_indices, evaluate_scores

    cleaned = clean_records(records, min_points)
    skipped: dict[str, int] = {}
    kept = []
    for c in cleaned:
        code = c.status.code.value
        if c.record.truth is None:
            key = "no_link" if c.record.linked is False else "no_truth"  # no link: no direction to score
            skipped[key] = skipped.get(key, 0) + 1
        elif c.scorable or c.status.code is StatusCode.CONSTANT:
            kept.append(c)
        else:
            skipped[code] = skipped.get(code, 0) + 1
    truth = np.array([c.record.truth for c in kept], dtype=float)
    weights = np.array([c.record.weight for c in kept], dtype=float)
    idx = bootstrap_indices(len(kept), n_boot, seed) if kept else None
    scores, metrics = {}, {}
    for name, scorer in methods.items():
        scored = score_clean(kept, scorer)
        bad = sum(not p.scored for p in scored)
        if bad:  # counted as ties, so every method keeps the same pairs; the count is reported
            skipped[f"{name}: score_not_finite (counted as 0.5)"] = bad
        s = np.array([0.5 if p.score is None else p.score for p in scored], dtype=float)
        scores[name] = s
        metrics[name] = evaluate_scores(truth, s, weights, indices=idx) if kept else None
    return Comparison([c.record.pair_id for c in kept], truth, weights, scores, metrics, skipped)


def flip_orientation(records: Sequence[PairRecord], seed: int | Sequence[int]) -> tuple[list[PairRecord], int]:
    """Swap each pair's columns with probability 1/2 (seeded; any numpy seed), flipping its truth in step.

    For sets where every truth points one way (CDT's copy of Tübingen: every target +1), where
    a constant rule would score 1.0. Returns (records, number flipped)."""
    rng = np.random.default_rng(seed)
    flips = rng.random(len(records)) < 0.5
    out = []
    for rec, flip in zip(records, flips):
        if flip:
            data = None if rec.data is None else rec.data[:, ::-1].copy()
            truth = None if rec.truth is None else 1 - rec.truth
            rec = dataclasses.replace(rec, data=data, truth=truth)  # every other field (weight, link) kept
        out.append(rec)
    return out, int(flips.sum())
