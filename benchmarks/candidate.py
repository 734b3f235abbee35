"""One row of the experiment log (benchmarks/RESULTS.md) for each candidate model.

    python benchmarks/candidate.py /work/shared/data/pairs NAME=MODEL.safetensors [NAME=MODEL ...] [--n-pairs 200]

For each model: held-out synthetic accuracy (``benchmarks/heldout.py``'s wide generator, seed
12345, ``--n-pairs`` per family), the nine simulated suites and Tübingen, with the column order
randomised exactly as in ``benchmarks/accuracy.py`` (same seed). Prints markdown rows; with
``--json`` it also writes every figure. The training command of each candidate is read from the
model's metadata file (``MODEL.json``), so the row says how the model was made.

Tübingen is the development set: these rows are for choosing between candidates and must all
be logged, never used to fit anything.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REAL, SUITES, headline, run  # noqa: E402
from heldout import heldout_table  # noqa: E402

HEADER = ("| candidate | held-out synthetic | 9 suites mean | SIM | SIM-c | SIM-ln | Tübingen weighted [95% CI] "
          "| Tübingen unweighted | Tübingen AUC |\n|---|---:|---:|---:|---:|---:|---|---:|---:|")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_root", type=Path)
    p.add_argument("models", nargs="+", help="NAME=PATH")
    p.add_argument("--n-pairs", type=int, default=200, help="held-out synthetic pairs per family")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    import torch

    import ncc
    from ncc.scoring import ncc_scorer

    torch.set_num_threads(args.threads)
    bad = [m for m in args.models if "=" not in m or not m.split("=", 1)[0]]
    if bad:
        p.error(f"expected NAME=PATH, got {bad[0]!r}")
    named = dict(m.split("=", 1) for m in args.models)
    held = heldout_table(list(named.values()), args.n_pairs, 12345)
    methods = {name: ncc_scorer(ncc.load(path), random_state=args.seed) for name, path in named.items()}
    results = run(args.data_root, methods, args.seed, 1000, SUITES + REAL)
    print(HEADER)
    report = {}
    for name, path in named.items():
        sims = [headline(results[s]["methods"][name]) for s in SUITES if s in results]
        t = results["tuebingen"]["methods"][name]
        meta = Path(path).with_suffix(".json")
        command = json.loads(meta.read_text()).get("command") if meta.is_file() else None
        print(f"| {name} | {held[path]['mean']:.3f} | {np.mean(sims):.3f} | "
              + " | ".join(f"{headline(results[s]['methods'][name]):.2f}" for s in ("SIM", "SIM-c", "SIM-ln"))
              + f" | {t['weighted_accuracy']:.3f} [{t['ci_low']:.3f}, {t['ci_high']:.3f}] | {t['accuracy']:.3f} "
              f"| {t['auc']:.3f} |")
        report[name] = {"path": path, "command": command, "heldout": held[path],
                        "suites": {s: results[s]["methods"][name] for s in results}}
    for name, r in report.items():
        print(f"- {name}: `{r['command']}`")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
