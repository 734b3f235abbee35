"""What `ncc evaluate` writes: valid JSON (NaN -> null), CSV readable by pandas, Markdown, the
per-pair scores of every method, the orientation check and the plots.

No torch here: these helpers only read a :class:`ncc.scoring.Comparison`.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Optional

import numpy as np

OUTPUT_FORMATS = ("markdown", "json", "csv")
METRIC_COLUMNS = ("n_pairs", "accuracy", "weighted_accuracy", "auc", "ci_low", "ci_high")


def json_safe(obj: Any) -> Any:
    """A copy with every NaN/inf float as None, numpy scalars as Python numbers: strict JSON."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any) -> str:
    """JSON text that any parser accepts (``allow_nan=False`` proves no NaN slipped through)."""
    return json.dumps(json_safe(obj), indent=2, allow_nan=False)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6f}"
    return str(v)


def table_csv(comparison) -> str:
    """One row per method: method + :data:`METRIC_COLUMNS`; empty cells for undefined values."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["method", *METRIC_COLUMNS])
    for name, m in comparison.metrics.items():
        if m is not None:
            d = m.as_dict()
            w.writerow([name, *(_cell(d[c]) for c in METRIC_COLUMNS)])
    return buf.getvalue()


def pairs_csv(comparison) -> str:
    """One row per pair: pair_id, truth (1: first column causes second), weight, then each method's score."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = list(comparison.scores)
    w.writerow(["pair_id", "truth", "weight", *names])
    for i, pid in enumerate(comparison.pair_ids):
        w.writerow([pid, int(comparison.truth[i]), _cell(float(comparison.weights[i])),
                    *(_cell(float(comparison.scores[n][i])) for n in names)])
    return buf.getvalue()


def pair_records(comparison) -> list[dict]:
    names = list(comparison.scores)
    return [{"pair_id": pid, "truth": int(comparison.truth[i]), "weight": float(comparison.weights[i]),
             "scores": {n: float(comparison.scores[n][i]) for n in names}}
            for i, pid in enumerate(comparison.pair_ids)]


def one_way_truth(comparison) -> Optional[str]:
    """A warning when every truth points the same way: a constant rule then scores 1.0."""
    values = set(np.asarray(comparison.truth).tolist())
    if len(comparison.pair_ids) < 2 or len(values) != 1:
        return None
    way = "first column causes second" if values == {1.0} else "second column causes first"
    rule = "x->y" if values == {1.0} else "y->x"
    return (f"every truth says '{way}': the constant rule 'always {rule}' scores 1.0 here and the AUC is "
            "undefined; rerun with --flip-seed S to flip each pair's columns at random (truth flipped in step)")


def output_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValueError(f"--output {path}: use a .csv or .json file name (the suffix picks the format)")
    return suffix[1:]


def pairs_path(path: Path) -> Path:
    """Where the per-pair scores go beside a CSV output: results.csv -> results.pairs.csv."""
    return path.with_name(f"{path.stem}.pairs.csv")


def plot_comparison(comparison, data_by_id: dict, folder: Path, *, seed: int, n_boot: int = 500) -> list[Path]:
    """decision_rate.png, roc.png and confident_pairs.png (of NCC) in ``folder``."""
    from ncc.plots import plot_confident_pairs, plot_decision_rate, plot_roc

    weighted = len(set(comparison.weights.tolist())) > 1
    w = comparison.weights if weighted else None
    n = len(comparison.pair_ids)
    written = [
        plot_decision_rate(comparison.truth, comparison.scores, folder / "decision_rate.png", weights=w,
                           n_boot=n_boot, seed=seed,
                           title=f"Accuracy versus decision rate ({n} pairs{', weighted' if weighted else ''})"),
        plot_roc(comparison.truth, comparison.scores, folder / "roc.png", title=f"ROC ({n} pairs)"),
    ]
    method = "NCC" if "NCC" in comparison.scores else next(iter(comparison.scores))
    data = [data_by_id.get(pid) for pid in comparison.pair_ids]
    written.append(plot_confident_pairs(data, comparison.truth, comparison.scores[method], comparison.pair_ids,
                                        folder / "confident_pairs.png", method=method))
    return written
