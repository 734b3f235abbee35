"""Accuracy of NCC and classic baselines on the nine visible cause-effect suites and Tübingen.

    python benchmarks/accuracy.py /work/shared/data/pairs [--model M1 --model M2 ...] [--seed 0] [--json out.json]

Every pair's column order is randomised with a seeded RNG and its truth flipped in step, so a
method that always answers "first column causes second" scores about 0.5 (the SIM and AN/LS
files are not stored in random order everywhere; see ncc-reference §4 "Orientation bias").
All methods score the very same pairs. With several ``--model`` files (e.g. three training
seeds) the table also gives their mean ± standard deviation. Without ``--model`` the shipped
model is used when the package has one; ``--no-ncc`` runs the baselines only.

This script reports; it must never be used to choose models or hyper-parameters.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

SUITES = ("SIM", "SIM-c", "SIM-ln", "SIM-G", "AN", "AN-s", "LS", "LS-s", "MN-U")
#: The real development set: read with its pairmeta.txt weights, scored weighted. Its figures are
#: reported apart from the nine simulated suites and never enter their mean.
REAL = ("tuebingen",)


def randomise_orientation(records, seed: int, suite: str):
    """Flip each pair's columns with probability 1/2 (truth flipped in step); seeded per suite."""
    from ncc.scoring import flip_orientation

    return flip_orientation(records, [seed, zlib.crc32(suite.encode())])


def build_methods(model_paths, no_ncc: bool, baselines, seed: int, members: bool = False):
    """name -> scorer; NCC models first. ``members``: also score each member of an ensemble alone
    (members are trained from different seeds, so this gives the spread over training seeds)."""
    import ncc
    from ncc.baselines import make_baseline
    from ncc.scoring import ncc_scorer

    methods, notes = {}, []
    if not no_ncc:
        from ncc.serialization import DEFAULT_MODEL_PATH

        paths = list(model_paths) or ([DEFAULT_MODEL_PATH] if DEFAULT_MODEL_PATH.is_file() else [])
        if not paths:
            notes.append(f"NCC skipped: no --model given and no shipped model at {DEFAULT_MODEL_PATH}")
        for i, path in enumerate(paths, 1):
            name = "NCC" if len(paths) == 1 else f"NCC[{i}]"
            model = ncc.load(path)
            methods[name] = ncc_scorer(model, random_state=seed)
            notes.append(f"{name}: {path}" + ("" if model_paths else " (shipped model)"))
            for k, member in enumerate(getattr(model, "members", []) if members else [], 1):
                methods[f"{name} member {k}"] = ncc_scorer(member, random_state=seed)
    for b in baselines:
        methods[b] = make_baseline(b, random_state=seed).score_pairs
    return methods, notes


def run(root: Path, methods, seed: int, n_boot: int, suites=SUITES, log=sys.stderr):
    from ncc.formats import read_pairs
    from ncc.scoring import compare_methods

    results = {}
    for suite in suites:
        folder = root / suite
        if not folder.is_dir():
            print(f"{suite}: missing under {root}, skipped", file=log)
            continue
        records, n_flipped = randomise_orientation(read_pairs(folder, with_truth=True), seed, suite)
        timings = {}
        suite_res = {"n_flipped": n_flipped, "methods": {}}
        for name, scorer in methods.items():
            t0 = time.perf_counter()
            comp = compare_methods(records, {name: scorer}, seed=seed, n_boot=n_boot)
            timings[name] = time.perf_counter() - t0
            m = comp.metrics[name]
            weighted = len(set(comp.weights.tolist())) > 1
            suite_res["methods"][name] = {**m.as_dict(), "weighted": weighted, "seconds": timings[name],
                                          "scores": comp.scores[name].tolist()}
            suite_res["skipped"] = comp.skipped
        if methods:  # the same kept pairs for every method (compare_methods never drops one per method)
            suite_res["pair_ids"], suite_res["truth"] = comp.pair_ids, comp.truth.tolist()
            suite_res["weights"] = comp.weights.tolist()
        results[suite] = suite_res
        print(f"{suite}: {len(records)} pairs, {n_flipped} flipped; "
              + ", ".join(f"{k} {headline(suite_res['methods'][k]):.3f} ({t:.1f}s)" for k, t in timings.items()),
              file=log)
    return results


def real_markdown(results: dict, methods: list[str]) -> str:
    """One row per method: weighted accuracy with its bootstrap CI, unweighted accuracy, AUC."""
    lines = []
    for suite, res in results.items():
        lines += [f"{suite} ({res['methods'][methods[0]]['n_pairs']} pairs, {res['n_flipped']} flipped):", "",
                  "| method | weighted acc. | 95% CI | accuracy | AUC |", "|---|---:|---|---:|---:|"]
        for m in methods:
            r = res["methods"][m]
            lines.append(f"| {m} | {r['weighted_accuracy']:.3f} | [{r['ci_low']:.3f}, {r['ci_high']:.3f}] "
                         f"| {r['accuracy']:.3f} | {r['auc']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def headline(res: dict) -> float:
    """Weighted accuracy where a suite has non-uniform weights, plain accuracy otherwise."""
    return res["weighted_accuracy"] if res["weighted"] else res["accuracy"]


def markdown(results: dict, methods: list[str], key=headline, digits: int = 2) -> str:
    # The seed spread: ensemble members scored alone (--members), else several --model files.
    ncc_members = [m for m in methods if " member " in m] or [m for m in methods if m.startswith("NCC[")]
    cols = list(methods) + (["NCC mean ± sd"] if len(ncc_members) > 1 else [])
    lines = ["| suite | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    per_method = {m: [] for m in methods}
    for suite, res in results.items():
        cells = []
        for m in methods:
            v = key(res["methods"][m])
            per_method[m].append(v)
            cells.append(f"{v:.{digits}f}")
        if len(ncc_members) > 1:
            vals = np.array([key(res["methods"][m]) for m in ncc_members])
            cells.append(f"{vals.mean():.{digits}f} ± {vals.std(ddof=1):.{digits}f}")
        lines.append(f"| {suite} | " + " | ".join(cells) + " |")
    means = {m: float(np.nanmean(v)) for m, v in per_method.items()}
    cells = [f"**{means[m]:.{digits}f}**" for m in methods]
    if len(ncc_members) > 1:
        vals = np.array([means[m] for m in ncc_members])
        cells.append(f"**{vals.mean():.{digits}f} ± {vals.std(ddof=1):.{digits}f}**")
    lines.append("| **mean** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(results: dict, methods: list[str]) -> dict:
    out = {}
    for m in methods:
        accs = [headline(r["methods"][m]) for r in results.values()]
        out[m] = {"mean_accuracy": float(np.mean(accs)), "min_accuracy": float(np.min(accs)),
                  "suites_below_0.60": [s for s, r in results.items() if headline(r["methods"][m]) < 0.60]}
    return out


def main(argv=None) -> int:
    from ncc.baselines import BASELINES

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_root", type=Path, help="folder holding the suites (e.g. /work/shared/data/pairs)")
    p.add_argument("--model", action="append", default=[], help="NCC model file; repeat for several (seeds)")
    p.add_argument("--no-ncc", action="store_true", help="baselines only")
    p.add_argument("--members", action="store_true", help="also score each ensemble member alone (seed spread)")
    p.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated, or 'none'")
    p.add_argument("--suites", default=",".join(SUITES + REAL),
                   help="comma-separated subset of the suites (the simulated ones and 'tuebingen')")
    p.add_argument("--seed", type=int, default=0, help="orientation shuffle, bootstrap and baseline subsampling")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--json", type=Path, default=None, help="also write all figures as JSON here")
    p.add_argument("--threads", type=int, default=2, help="torch threads for NCC scoring")
    args = p.parse_args(argv)

    if not args.data_root.is_dir():
        p.error(f"data root not found: {args.data_root}")
    baselines = ([] if args.baselines.strip().lower() == "none"
                 else [b.strip() for b in args.baselines.split(",") if b.strip()])
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        p.error(f"unknown baselines {unknown}; known: {list(BASELINES)}")
    if not args.no_ncc:
        import torch

        torch.set_num_threads(args.threads)
    methods, notes = build_methods(args.model, args.no_ncc, baselines, args.seed, args.members)
    suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    t0 = time.perf_counter()
    results = run(args.data_root, methods, args.seed, args.n_boot, suites)
    names = list(methods)
    simulated = {k: v for k, v in results.items() if k not in REAL}
    real = {k: v for k, v in results.items() if k in REAL}

    from ncc import __version__

    print(f"## Direction accuracy, column order randomised (seed {args.seed}), ncc {__version__}\n")
    if real:
        print("Real pairs (weighted by pairmeta.txt where it has weights):\n")
        print(real_markdown(real, names))
    if simulated:
        print("Simulated suites:\n")
        print(markdown(simulated, names))
        print("\nAUC:\n")
        print(markdown(simulated, names, key=lambda r: r["auc"]))
    print()
    for n in notes:
        print(f"- {n}")
    for m, s in (summary(simulated, names).items() if simulated else ()):
        below = ", ".join(s["suites_below_0.60"]) or "none"
        print(f"- {m}: mean {s['mean_accuracy']:.3f} over {len(simulated)} simulated suites, "
              f"min {s['min_accuracy']:.3f}, suites below 0.60: {below}")
    print(f"- wall time {time.perf_counter() - t0:.0f} s")
    if args.json:
        report = {"ncc_version": __version__, "seed": args.seed, "n_boot": args.n_boot,
                  "data_root": str(args.data_root),
                  "methods": names, "notes": notes, "results": results,
                  "summary": summary(simulated, names) if simulated else {}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
