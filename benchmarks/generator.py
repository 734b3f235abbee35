"""Generator speed: pairs per second for each mechanism family, on one thread.

Usage: python benchmarks/generator.py [--n-pairs 4000] [--n-points 1000] [--repeats 3]

Prints one line per family (and for mechanism="mix", and for a ragged 50:5000 run) with the
best of ``--repeats`` timings.  Threads are pinned to 1 before numpy is imported.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import synthetic  # noqa: E402


def pairs_per_second(n_pairs: int, repeats: int, **options) -> float:
    best = float("inf")
    for r in range(repeats):
        start = time.perf_counter()
        synthetic.make_pairs(n_pairs, random_state=r, **options)
        best = min(best, time.perf_counter() - start)
    return n_pairs / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pairs", type=int, default=4000)
    parser.add_argument("--n-points", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"numpy {np.__version__}, {platform.processor() or platform.machine()}, 1 thread, "
          f"{args.n_pairs} pairs x {args.n_points} points, best of {args.repeats}")
    print(f"{'mechanism':<18}{'pairs/s':>10}")
    runs = [(name, {"mechanism": name}) for name in synthetic.MECHANISMS]
    runs += [("mix", {"mechanism": "mix"}),
             ("mix+all kinds", {"mechanism": "mix", "cause": "mix",
                                "kinds": "causal,independent,confounded",
                                "discretize_prob": 0.1, "quantize_prob": 0.1})]
    for label, options in runs:
        rate = pairs_per_second(args.n_pairs, args.repeats, n_points=args.n_points, **options)
        print(f"{label:<18}{rate:>10.0f}", flush=True)
    ragged = pairs_per_second(args.n_pairs // 4, args.repeats, n_points=(50, 5000))
    print(f"{'spline 50:5000':<18}{ragged:>10.0f}   (log-uniform sizes, mean ~1,200 points)")


if __name__ == "__main__":
    main()
