"""Probe: how far do the classic statistics of ``ncc.statistics`` alone carry, synthetic → real?

    python benchmarks/probe_statistics.py /work/shared/data/pairs/tuebingen [--gen JSON] [--n-pairs 20000]

Computes the statistics of ``--n-pairs`` synthetic pairs (``ncc.train.DEFAULT_GENERATOR`` updated
with ``--gen`` by ``ncc.train.generator_options``, seed 123), fits two small classifiers on them (gradient boosting
and logistic regression, antisymmetrised like NCC), and scores 2,000 held-out synthetic pairs (seed 999) and
the Tübingen pairs (column order randomised as in ``benchmarks/accuracy.py``, seed 0, weighted).
It also prints, for each statistic alone, the accuracy of "the smaller value is the cause's".

A quick, cheap look at what a generator teaches. Nothing is fitted on Tübingen; every run of this
script on it is a comparison and goes into benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import randomise_orientation  # noqa: E402


def statistics_of(pairs) -> np.ndarray:
    from ncc.model import standardize
    from ncc.statistics import pair_statistics

    out = []
    for i in range(0, len(pairs), 256):
        chunk = [np.asarray(p, dtype=float) for p in pairs[i:i + 256]]
        lengths = torch.tensor([len(p) for p in chunk])
        z, _ = standardize(torch.as_tensor(np.concatenate(chunk)), lengths, torch.float64)
        out.append(pair_statistics(z, lengths).numpy())
    return np.concatenate(out)


def both_orders(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([S[:, 0], S[:, 1]], 1), np.concatenate([S[:, 1], S[:, 0]], 1)


def main(argv=None) -> int:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import synthetic
    from ncc.formats import read_pairs
    from ncc.metrics import accuracy, weighted_accuracy
    from ncc.statistics import STATISTICS
    from ncc.train import generator_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tuebingen", type=Path)
    p.add_argument("--gen", default="{}", help="JSON dict of generator options over DEFAULT_GENERATOR")
    p.add_argument("--n-pairs", type=int, default=20000)
    args = p.parse_args(argv)

    config = synthetic.make_config(**generator_options(json.loads(args.gen)))
    X, y, _ = synthetic.generate(args.n_pairs, config, random_state=123)
    F, Fr = both_orders(statistics_of(X))
    Xh, yh, _ = synthetic.generate(2000, config, random_state=999)
    H = statistics_of(Xh)
    records, _ = randomise_orientation(read_pairs(args.tuebingen, with_truth=True), 0, "tuebingen")
    records = [r for r in records if r.data is not None]
    T = statistics_of([r.data for r in records])
    truth = np.array([r.truth for r in records])
    weights = np.array([r.weight for r in records])

    print(f"generator: {json.dumps(json.loads(args.gen))}, {args.n_pairs} training pairs")
    models = {"gradient boosting": HistGradientBoostingClassifier(max_iter=300, random_state=0),
              "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))}
    for name, model in models.items():
        model.fit(np.concatenate([F, Fr]), np.concatenate([y, 1 - y]))

        def score(S):
            a, b = both_orders(S)
            return 0.5 * (model.predict_proba(a)[:, 1] + 1 - model.predict_proba(b)[:, 1])

        print(f"- {name}: held-out synthetic {accuracy(yh, score(H)):.3f}, Tübingen weighted "
              f"{weighted_accuracy(truth, score(T), weights):.3f} (unweighted {accuracy(truth, score(T)):.3f})")
    print("\n| statistic | synthetic | Tübingen weighted |\n|---|---:|---:|")
    for k, name in enumerate(STATISTICS):
        rule = lambda S: 0.5 + 0.5 * np.sign(S[:, 1, k] - S[:, 0, k])  # noqa: E731
        print(f"| {name} | {accuracy(yh, rule(H)):.3f} | {weighted_accuracy(truth, rule(T), weights):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
