"""The three answers in ``ncc score`` and ``ncc evaluate``: the link model beside the direction model.

``ncc score`` appends ``p_xy,p_yx,p_none`` to its CSV; ``ncc evaluate`` on CEPC targets with
label 0 (no link) adds the three-way accuracy and the AUC of p_none for "no link" against "a
link". Kept apart from :mod:`ncc.cli_score` so that module only calls in here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ncc._cli_utils import fail

RELATION_COLUMNS = ["p_xy", "p_yx", "p_none"]


def load_link(path: Optional[Path]):
    """(loaded link model, provenance dict); exits with one line on any problem."""
    from ncc._hashing import file_sha256
    from ncc.serialization import load_link_model
    from ncc.weights import LinkWeights

    if path is None:
        if not LinkWeights.DEFAULT.path.is_file():
            fail("no --link-model given and no shipped link model is installed; pass --link-model PATH "
                 "(see `ncc train --head link`)")
        path, kind = LinkWeights.DEFAULT.path, "shipped default"
    else:
        kind = "file"
    if not path.is_file():
        fail(f"link model file not found: {path}")
    try:
        model = load_link_model(path)
    except Exception as exc:  # noqa: BLE001 - any failure is a bad model file, reported in one line
        detail = " ".join(str(exc).split()) or type(exc).__name__
        fail(detail if str(path) in detail else f"cannot load link model file {path}: {detail}")
    return model, {"link_model": kind, "link_path": str(path), "link_sha256": file_sha256(path)}


def relation_cells(direction_rows, link_rows) -> list[list[str]]:
    """The three CSV cells of each pair: empty where either score is missing."""
    from ncc.scoring import relation_of

    out = []
    for d, r in zip(direction_rows, link_rows):
        values = relation_of(d, r)
        out.append(["", "", ""] if values is None else [f"{v:.6f}" for v in values])
    return out


def link_rows(cleaned, link_model, seed: int):
    from ncc.scoring import link_scorer, score_clean

    return score_clean(cleaned, link_scorer(link_model, random_state=seed))


def evaluate_relation(records: Sequence, model, link_model, seed: int, min_points: int) -> Optional[dict]:
    """Three-way figures on every pair whose CEPC target says link or no link, or None when no
    pair is marked "no link" (then ``ncc evaluate`` prints what it always did)."""
    import numpy as np

    from ncc.formats import StatusCode
    from ncc.metrics import relation_metrics
    from ncc.scoring import clean_records, ncc_scorer, relation_of, score_clean

    if not any(r.linked is False for r in records):
        return None
    known = [r for r in records if r.linked is False or (r.linked and r.truth is not None)]
    cleaned = [c for c in clean_records(known, min_points) if c.scorable or c.status.code is StatusCode.CONSTANT]
    direction = score_clean(cleaned, ncc_scorer(model, random_state=seed))
    links = link_rows(cleaned, link_model, seed)
    truth, probabilities = [], []
    for c, d, r in zip(cleaned, direction, links):
        values = relation_of(d, r)
        if values is None:
            continue
        rec = c.record
        truth.append(2 if rec.linked is False else (0 if rec.truth == 1 else 1))
        probabilities.append(values)
    if not truth:
        return {"n_pairs": 0}
    report = relation_metrics(np.array(truth), np.array(probabilities))
    report = {k: (None if isinstance(v, float) and v != v else v) for k, v in report.items()}  # JSON: no NaN
    report["left_out"] = len(known) - len(truth)
    return report


def relation_lines(report: dict, n_linked: int) -> list[str]:
    """The lines ``ncc evaluate`` prints under its table."""
    from ncc.cli_score import _fmt

    if not report.get("n_pairs"):
        return ["three answers: no pair with a CEPC target could be scored by both models"]
    counts = report["n_per_class"]
    line = (f"three answers (x->y, y->x, none) on {report['n_pairs']} pairs ({counts['none']} without a link): "
            f"three-way accuracy {_fmt(_nan(report['three_way_accuracy']))}; AUC of p_none, no link vs link "
            f"{_fmt(_nan(report['auc_none']))}")
    return [line, f"the two-way figures above are on the {n_linked} pairs with a link"]


def _nan(value) -> float:
    return float("nan") if value is None else value
