"""What real and synthetic pairs look like: ties and tails of causes and effects.

    python benchmarks/marginals.py /work/shared/data/pairs/tuebingen [--n-pairs 2000] [--gen JSON]

For the Tübingen pairs (oriented by their truth) and for ``--n-pairs`` synthetic pairs of the
previous default generator (G0) and of ``ncc.train.DEFAULT_GENERATOR`` (updated with ``--gen``),
prints the quantiles of each variable's tie fraction (1 − distinct/n), the share of variables with
a tie fraction above 0.5, and the median kurtosis, for causes and effects apart. Marginals only:
nothing here uses a method's answers.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

#: The default generator before issue 7 (README, "How the default recipe was chosen").
G0 = dict(n_points=(100, 1500), mechanism="mix", cause="mix", noise="mix", discretize_prob=0.1,
          quantize_prob=0.1, confounder_prob=0.2)


def tie_fraction(v: np.ndarray) -> float:
    return 1.0 - len(np.unique(v)) / len(v)


def kurtosis(v: np.ndarray) -> float:
    z = (v - v.mean()) / v.std()
    return float(np.mean(z ** 4))


def describe(oriented: list[np.ndarray]) -> dict:
    """oriented: (n, 2) arrays with the cause in column 0."""
    out = {}
    for col, role in enumerate(("cause", "effect")):
        ties = np.array([tie_fraction(p[:, col]) for p in oriented])
        kurt = np.array([kurtosis(p[:, col]) for p in oriented if p[:, col].std() > 0])
        out[role] = {"tie_quantiles_10_25_50_75_90": np.round(np.percentile(ties, [10, 25, 50, 75, 90]), 2).tolist(),
                     "share_ties_above_0.5": round(float((ties > 0.5).mean()), 3),
                     "median_kurtosis": round(float(np.median(kurt)), 2)}
    return out


def synthetic_oriented(options: dict, n_pairs: int, seed: int) -> list[np.ndarray]:
    import synthetic

    X, y, _ = synthetic.generate(n_pairs, synthetic.make_config(**options), random_state=seed)
    return [np.asarray(p) if t == 1 else np.asarray(p)[:, ::-1] for p, t in zip(X, y)]


def main(argv=None) -> int:
    from ncc.formats import read_pairs
    from ncc.train import generator_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tuebingen", type=Path)
    p.add_argument("--n-pairs", type=int, default=2000)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--gen", default="{}", help="JSON options over DEFAULT_GENERATOR")
    args = p.parse_args(argv)
    real = [r.data if r.truth == 1 else r.data[:, ::-1]
            for r in read_pairs(args.tuebingen, with_truth=True) if r.data is not None]
    rows = {"Tübingen": describe(real),
            "G0 (previous default)": describe(synthetic_oriented(G0, args.n_pairs, args.seed)),
            "DEFAULT_GENERATOR": describe(synthetic_oriented(generator_options(json.loads(args.gen)),
                                                             args.n_pairs, args.seed))}
    print("| data | variable | tie fraction q10/q25/q50/q75/q90 | share with ties > 0.5 | median kurtosis |")
    print("|---|---|---|---:|---:|")
    for name, d in rows.items():
        for role, r in d.items():
            q = " / ".join(f"{v:.2f}" for v in r["tie_quantiles_10_25_50_75_90"])
            print(f"| {name} | {role} | {q} | {r['share_ties_above_0.5']:.3f} | {r['median_kurtosis']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
