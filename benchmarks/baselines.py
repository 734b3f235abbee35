"""Speed and accuracy of the classic baselines side by side, and what ANM-HSIC's fit subsample costs.

    python benchmarks/baselines.py [DATA_ROOT] [--sizes 100,500,1000,5000] [--repeats 3]
                                   [--suites SIM,...,tuebingen] [--seed 0] [--json out.json]

* **Time per pair** of every baseline in ``ncc.baselines.BASELINES`` on synthetic additive-noise
  pairs of each size in ``--sizes`` (best of ``--repeats`` runs over ``--timing-pairs`` pairs),
  plus ANM-HSIC scored as before issue 10 (BLAS threads not limited: the speed-up of the one-thread
  rule) and ANM-HSIC with ``fit_points=200`` (the speed-up of a 200-point regression fit).
* With ``DATA_ROOT`` (e.g. ``../shared/data/pairs``): accuracy of every baseline and of the
  ``fit_points=200`` ANM-HSIC on the suites, with the column order randomised exactly as
  ``benchmarks/accuracy.py`` does (same seed, same flips), and the share of pairs where the two
  ANM-HSIC variants decide the same way. Tübingen is weighted by ``pairmeta.txt``.

It reports; nothing is fitted or tuned on these pairs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

FAST_ANM = "ANM-HSIC (fit_points=200)"
BEFORE_ANM = "ANM-HSIC as before issue 10 (BLAS threads not limited)"


def _accuracy_module():
    spec = importlib.util.spec_from_file_location("bench_accuracy", Path(__file__).with_name("accuracy.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_methods(seed: int) -> dict:
    from ncc.baselines import ANMHSIC, BASELINES, make_baseline

    methods = {name: make_baseline(name, random_state=seed) for name in BASELINES}
    methods[FAST_ANM] = ANMHSIC(fit_points=200, random_state=seed)
    return methods


class _UnlimitedThreads:
    """A baseline scored the way PairBaseline.score_pairs did before issue 10: no BLAS thread limit."""

    def __init__(self, method):
        self.method = method

    def score_pairs(self, pairs):
        from sklearn.utils import check_random_state

        from ncc.baselines import _check_pair

        rng = check_random_state(self.method.random_state)
        return np.array([self.method._score_one(*_check_pair(p), rng) for p in pairs])


def synthetic_pairs(n_pairs: int, n_points: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_pairs):
        x = rng.normal(size=n_points)
        out.append(np.c_[x, np.tanh(2 * x) + 0.3 * rng.standard_t(4, size=n_points)])
    return out


def time_methods(methods: dict, sizes, n_pairs: int, repeats: int, seed: int) -> dict:
    """{method: {size: best seconds per pair}}."""
    out = {name: {} for name in methods}
    for n in sizes:
        pairs = synthetic_pairs(n_pairs, n, seed)
        for name, method in methods.items():
            best = np.inf
            for _ in range(repeats):
                t0 = time.perf_counter()
                method.score_pairs(pairs)
                best = min(best, (time.perf_counter() - t0) / n_pairs)
            out[name][n] = best
        print(f"timed n={n}", file=sys.stderr)
    return out


def accuracy_on_suites(root: Path, methods: dict, suites, seed: int, n_boot: int) -> dict:
    from ncc.formats import read_pairs
    from ncc.scoring import compare_methods

    acc = _accuracy_module()
    results = {}
    for suite in suites:
        folder = root / suite
        if not folder.is_dir():
            print(f"{suite}: missing under {root}, skipped", file=sys.stderr)
            continue
        records, _ = acc.randomise_orientation(read_pairs(folder, with_truth=True), seed, suite)
        scorers = {name: m.score_pairs for name, m in methods.items()}
        t0 = time.perf_counter()
        comp = compare_methods(records, scorers, seed=seed, n_boot=n_boot)
        weighted = len(set(comp.weights.tolist())) > 1
        res = {name: (m.weighted_accuracy if weighted else m.accuracy) for name, m in comp.metrics.items()}
        res["_auc"] = {name: m.auc for name, m in comp.metrics.items()}
        res["_ci"] = {name: [m.ci_low, m.ci_high] for name, m in comp.metrics.items()}
        fast, full = comp.scores[FAST_ANM], comp.scores["ANM-HSIC"]
        res["_anm_agreement"] = float(np.mean((fast > 0.5) == (full > 0.5)))
        res["_weighted"] = weighted
        res["_n_pairs"] = len(comp.pair_ids)
        results[suite] = res
        print(f"{suite}: {len(comp.pair_ids)} pairs, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return results


def main(argv=None) -> int:
    acc = _accuracy_module()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_root", type=Path, nargs="?", default=None)
    p.add_argument("--sizes", default="100,500,1000,5000")
    p.add_argument("--timing-pairs", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--suites", default=",".join(acc.SUITES + acc.REAL))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    methods = make_methods(args.seed)
    names = list(methods)
    report = {"seed": args.seed}
    if not args.no_timing:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        timed = {**methods, BEFORE_ANM: _UnlimitedThreads(methods["ANM-HSIC"])}
        timing = time_methods(timed, sizes, args.timing_pairs, args.repeats, args.seed)
        report["seconds_per_pair"] = timing
        print("## Seconds per pair (best of %d, %d pairs)\n" % (args.repeats, args.timing_pairs))
        print("| method | " + " | ".join(f"n = {n}" for n in sizes) + " |")
        print("|---|" + "---:|" * len(sizes))
        for name in timed:
            print(f"| {name} | " + " | ".join(f"{timing[name][n]:.4f}" for n in sizes) + " |")
        print("| ANM-HSIC speed-up (before / now) | " + " | ".join(
            f"{timing[BEFORE_ANM][n] / timing['ANM-HSIC'][n]:.1f}x" for n in sizes) + " |")
        print("| speed-up of fit_points=200 | " + " | ".join(
            f"{timing['ANM-HSIC'][n] / timing[FAST_ANM][n]:.1f}x" for n in sizes) + " |\n")
    if args.data_root is not None:
        suites = [s.strip() for s in args.suites.split(",") if s.strip()]
        results = accuracy_on_suites(args.data_root, methods, suites, args.seed, args.n_boot)
        report["accuracy"] = results
        print(f"## Accuracy, column order randomised (seed {args.seed}); Tübingen weighted\n")
        print("| suite | " + " | ".join(names) + " | ANM agreement |")
        print("|---|" + "---:|" * (len(names) + 1))
        simulated = [s for s in results if s not in acc.REAL]
        for suite, res in results.items():
            print(f"| {suite} | " + " | ".join(f"{res[n]:.3f}" for n in names) + f" | {res['_anm_agreement']:.2f} |")
        if simulated:
            means = {n: float(np.mean([results[s][n] for s in simulated])) for n in names}
            report["simulated_mean"] = means
            cells = " | ".join(f"**{means[n]:.3f}**" for n in names)
            print(f"| **mean of {len(simulated)} simulated** | " + cells + " | |")
        for suite in (s for s in results if s in acc.REAL):
            ci = results[suite]["_ci"]
            print(f"\n{suite} 95% CIs: " + ", ".join(f"{n} [{ci[n][0]:.3f}, {ci[n][1]:.3f}]" for n in names))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
