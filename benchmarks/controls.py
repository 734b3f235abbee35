"""Controls for the real-pair accuracy: they must score 0.5 ± noise.

    python benchmarks/controls.py /work/shared/data/pairs [--steps 1500] [--seed 0] [--json out.json]

* **Always first column.** Answers "column 1 causes column 2" for every pair. The benchmarks
  randomise the column order (``accuracy.randomise_orientation``), so this scores about 0.5; a
  much higher figure would mean the orientation randomisation is broken.
* **Shuffled labels.** The shipped recipe (hybrid network, default generator), trained with every
  training label replaced by a fair coin flip that ignores the pair. Such a network learns no
  direction: its scores stay within a few thousandths of 0.5 (the "confidence" column, median
  |score − 0.5|, against about 0.26 for the shipped model on Tübingen). The *sign* of those tiny
  scores is still some random mix of cause-effect cues, and one such mix can be right or wrong on
  most pairs of a suite, so a single network can land far from 0.5. Only the mean over several
  training seeds (``--train-seeds``; a rule and its mirror are equally likely) must sit at chance.

Both are scored on the same randomised pairs as ``benchmarks/accuracy.py`` (same seed), so the
figures sit beside that script's table.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REAL, SUITES, headline, run  # noqa: E402


class ShuffledLabels:
    """A pair source whose labels are seeded coin flips, independent of the pairs."""

    def __init__(self, source, seed: int) -> None:
        self.source, self.seed = source, seed

    def _flip(self, y, *key):
        rng = np.random.default_rng([self.seed, *key])
        return rng.integers(0, 2, size=len(y)).astype(np.int64)

    def batch(self, member, step, batch_size):
        X, y = self.source.batch(member, step, batch_size)
        return X, self._flip(y, 1, member, step)

    def heldout(self):
        return self.source.heldout()  # true labels: the held-out accuracy shows chance

    def describe(self):
        return {**self.source.describe(), "labels": f"shuffled (coin flips, seed {self.seed})"}


def train_shuffled(steps: int, seed: int, threads: int):
    import torch

    from ncc.model import NCCConfig
    from ncc.train import DEFAULT_ARCH, DEFAULT_GENERATOR, SyntheticPairs, TrainConfig, train_ncc

    torch.set_num_threads(threads)
    source = ShuffledLabels(SyntheticPairs(DEFAULT_GENERATOR, seed=seed, n_heldout=1000), seed)
    with tempfile.TemporaryDirectory() as tmp:
        result = train_ncc(NCCConfig(**DEFAULT_ARCH), TrainConfig(steps=steps, seed=seed), source,
                           checkpoint=Path(tmp) / "shuffled.ckpt", progress=False)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_root", type=Path)
    p.add_argument("--steps", type=int, default=1500, help="training steps of the shuffled-label network")
    p.add_argument("--seed", type=int, default=0, help="orientation shuffle and bootstrap (as accuracy.py)")
    p.add_argument("--train-seeds", default="7,8,9,10", help="seeds of the shuffled-label training runs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    if not args.data_root.is_dir():
        p.error(f"data root not found: {args.data_root}")

    from ncc.scoring import ncc_scorer

    seeds = [int(t) for t in args.train_seeds.split(",") if t.strip()]
    methods, heldout = {"always first column": lambda pairs: np.ones(len(pairs))}, {}
    for seed in seeds:
        result = train_shuffled(args.steps, seed, args.threads)
        methods[f"shuffled seed {seed}"] = ncc_scorer(result.model, random_state=args.seed)
        heldout[seed] = result.metadata["heldout"]["accuracy"]
    results = run(args.data_root, methods, args.seed, args.n_boot, SUITES + REAL)
    shuffled = [m for m in methods if m.startswith("shuffled")]
    print(f"shuffled-label networks: {args.steps} steps each; held-out synthetic accuracy "
          + ", ".join(f"{heldout[s]:.3f}" for s in seeds) + f" (mean {np.mean(list(heldout.values())):.3f})\n")
    cols = list(methods) + ["shuffled mean", "shuffled confidence"]
    print("| suite | " + " | ".join(cols) + " |\n|---|" + "---:|" * len(cols))
    for suite, res in results.items():
        accs = [headline(res["methods"][m]) for m in shuffled]
        conf = np.median(np.abs(np.concatenate([res["methods"][m]["scores"] for m in shuffled]) - 0.5))
        print(f"| {suite} | " + " | ".join(f"{headline(res['methods'][m]):.3f}" for m in methods)
              + f" | {np.mean(accs):.3f} | {conf:.4f} |")
    sims = [s for s in results if s not in REAL]
    print("| mean of the simulated suites | " + " | ".join(
        f"{np.mean([headline(results[s]['methods'][m]) for s in sims]):.3f}" for m in methods)
        + f" | {np.mean([headline(results[s]['methods'][m]) for s in sims for m in shuffled]):.3f} | |")
    for suite in REAL:
        if suite in results:
            r = results[suite]["methods"]["always first column"]
            print(f"- {suite}, always first column: weighted {r['weighted_accuracy']:.3f} "
                  f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
    if args.json:
        args.json.write_text(json.dumps({"steps": args.steps, "train_seeds": seeds, "seed": args.seed,
                                         "heldout": heldout, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
