"""Held-out *synthetic* accuracy per mechanism family: the project's model-selection yardstick.

    python benchmarks/heldout.py --model A.safetensors [--model B.safetensors ...] [--n-pairs 300] [--seed 12345]

Every family is drawn with the wide generator (mixed causes and noise shapes, discretised and
quantised variables, hidden confounders, 50 to 2,000 points) from a seed that training never
uses, so the table measures how well a model generalises across mechanisms.  Real benchmark
pairs are never read here. This table was the only yardstick of the first model selection; since
issue 7 candidates are also compared on the real development set, every comparison logged in
benchmarks/RESULTS.md. (WIDE is close to the previous default generator, kept fixed so
that old and new figures compare.)
"""
from __future__ import annotations

import argparse
import json

import numpy as np

import ncc
import synthetic

# A fixed, wide held-out distribution (documented in README, "How the shipped model was chosen").
WIDE = dict(cause="mix", noise="mix", discretize_prob=0.1, quantize_prob=0.1, confounder_prob=0.2)


def heldout_table(models: list[str], n_pairs: int, seed: int) -> dict:
    families = list(synthetic.MECHANISMS)
    table: dict[str, dict[str, float]] = {}
    for offset, family in enumerate(families):
        X, y = synthetic.make_pairs(n_pairs, n_points=(50, 2000), mechanism=family,
                                    random_state=seed + offset, **WIDE)
        for path in models:
            scores = ncc.score_pairs(X, model=path)
            table.setdefault(path, {})[family] = float(np.mean((scores > 0.5) == (y == 1)))
    for path in models:
        table[path]["mean"] = float(np.mean([table[path][f] for f in families]))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", required=True, help="model file; repeatable")
    parser.add_argument("--n-pairs", type=int, default=300, help="pairs per family")
    parser.add_argument("--seed", type=int, default=12345, help="held-out seed (training seeds are small ints)")
    parser.add_argument("--json", help="also write the table here")
    args = parser.parse_args()
    table = heldout_table(args.model, args.n_pairs, args.seed)
    families = list(synthetic.MECHANISMS) + ["mean"]
    print("| family | " + " | ".join(args.model) + " |")
    print("|---|" + "---|" * len(args.model))
    for family in families:
        print(f"| {family} | " + " | ".join(f"{table[m][family]:.3f}" for m in args.model) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"seed": args.seed, "n_pairs": args.n_pairs, "generator": WIDE, "table": table,
                       "ncc_version": ncc.__version__}, fh, indent=2)


if __name__ == "__main__":
    main()
