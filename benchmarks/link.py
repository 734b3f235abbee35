"""How well the link head separates pairs without a causal link from linked ones.

    python benchmarks/link.py [--link-model ncc/pretrained/ncc-link.safetensors] [--n-pairs 300]
        [--seed 12345] [--suite SIM-c=/work/shared/data/pairs/SIM-c ...] [--tuebingen DIR] [--json out.json]

1. **Held-out synthetic kinds.** ``--n-pairs`` pairs of each kind (causal, causal with a hidden
   confounder, independent, confounded) from benchmarks/heldout.py's wide generator (all
   mechanism families and causes, 50 to 2,000 points) with seeds that training never uses
   (``--seed`` + 0..3; training seeds are small ints). Printed: the AUC of p_none for each
   no-link kind against all linked pairs, and for both no-link kinds together; the accuracy of
   p_none > 0.5; and the three-way accuracy of :func:`ncc.predict_relations` (argmax over
   x→y, y→x, none) with the shipped direction model.
2. **A suite of real-format linked pairs** (``--suite NAME=DIR``, default SIM-c: every pair there
   has a link, x → y, plus a hidden confounder). Its pairs are the positives; the negatives are
   the same pairs with the second column permuted (seeded per pair), which keeps both marginals
   and removes any dependence: an independent pair with the suite's own marginals. Printed: the
   AUC of p_none for "permuted (no link)" against "original (link)", and the mean p_none of each.
3. **Tübingen** (``--tuebingen DIR``, optional, report only): every pair there has a link, so
   the only figure is a sanity one, the mean p_none and the share above 0.5, beside the same
   permutation AUC. Nothing is tuned on it; each run is logged in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib

import numpy as np

import ncc
import synthetic
from ncc.metrics import auc

sys.path.insert(0, __file__.rsplit("/", 1)[0])  # benchmarks/ beside this file
from heldout import WIDE  # noqa: E402

#: (name, generator kinds, confounder_prob): the four held-out kinds.
KINDS = (("causal", "causal", 0.0), ("causal+hidden confounder", "causal", 1.0),
         ("independent", "independent", 0.0), ("confounded", "confounded", 0.0))


def synthetic_figures(link_model, model, n_pairs: int, seed: int) -> dict:
    pairs, kind_of, labels = [], [], []
    for offset, (name, kinds, confounder) in enumerate(KINDS):
        options = {**WIDE, "confounder_prob": confounder}
        X, y = synthetic.make_pairs(n_pairs, n_points=(50, 2000), mechanism="mix", kinds=kinds,
                                    random_state=seed + offset, **options)
        pairs += list(X)
        kind_of += [name] * len(y)
        labels += list(y)
    kind_of, labels = np.array(kind_of), np.array(labels)
    relations = ncc.predict_relations(pairs, model=model, link_model=link_model)
    p_none = relations[:, 2]
    linked = labels >= 0
    out = {"n_pairs_per_kind": n_pairs, "seed": seed, "generator": {**WIDE, "n_points": [50, 2000]},
           "mean_p_none": {k: float(p_none[kind_of == k].mean()) for k, _, _ in KINDS}}
    for name in ("independent", "confounded"):
        keep = linked | (kind_of == name)
        out[f"auc_{name}_vs_linked"] = auc((~linked[keep]).astype(float), p_none[keep])
    out["auc_no_link_vs_linked"] = auc((~linked).astype(float), p_none)
    out["accuracy_p_none"] = float(np.mean((p_none > 0.5) == ~linked))
    truth3 = np.where(labels == 1, 0, np.where(labels == 0, 1, 2))
    out["three_way_accuracy"] = float(np.mean(relations.argmax(1) == truth3))
    return out


def permutation_figures(records, link_model, seed: int, name: str) -> dict:
    """Original pairs (link) against the same pairs with column 2 permuted (no link)."""
    data = [r.data[np.isfinite(r.data).all(1)] for r in records if r.data is not None]
    data = [d for d in data if len(d) >= 10]
    permuted = []
    for i, d in enumerate(data):
        rng = np.random.default_rng([seed, zlib.crc32(name.encode()), i])
        permuted.append(np.c_[d[:, 0], rng.permutation(d[:, 1])])
    p_link = ncc.link_scores(data, link_model)
    p_perm = ncc.link_scores(permuted, link_model)
    truth = np.r_[np.zeros(len(data)), np.ones(len(permuted))]
    return {"n_pairs": len(data), "auc_permuted_vs_original": auc(truth, np.r_[p_link, p_perm]),
            "mean_p_none_original": float(p_link.mean()), "mean_p_none_permuted": float(p_perm.mean()),
            "share_original_above_half": float(np.mean(p_link > 0.5))}


def _read(path: str):
    from ncc.formats import read_pairs

    return read_pairs(path)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--link-model", default=None, help="link model file (default: the shipped one)")
    parser.add_argument("--model", default=None, help="direction model for the three-way figure (default: shipped)")
    parser.add_argument("--n-pairs", type=int, default=300, help="held-out pairs per kind")
    parser.add_argument("--seed", type=int, default=12345, help="held-out seed (training seeds are small ints)")
    parser.add_argument("--suite", action="append", default=None, metavar="NAME=DIR",
                        help="linked pairs for the permutation protocol; repeatable "
                             "(default: SIM-c=/work/shared/data/pairs/SIM-c when it exists)")
    parser.add_argument("--tuebingen", default=None, help="Tübingen folder (report only)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    from pathlib import Path

    suites = args.suite
    if suites is None:
        default = Path("/work/shared/data/pairs/SIM-c")
        suites = [f"SIM-c={default}"] if default.is_dir() else []
    from ncc.api import resolve_link_model

    link_model = resolve_link_model(args.link_model)
    report = {"ncc_version": ncc.__version__, "link_model": args.link_model or "shipped",
              "synthetic": synthetic_figures(link_model, args.model, args.n_pairs, args.seed), "suites": {}}
    for item in suites:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--suite {item!r}: expected NAME=DIR")
        report["suites"][name] = permutation_figures(_read(path), link_model, args.seed, name)
    if args.tuebingen:
        report["tuebingen"] = permutation_figures(_read(args.tuebingen), link_model, args.seed, "tuebingen")

    s = report["synthetic"]
    print(f"held-out synthetic ({s['n_pairs_per_kind']} pairs per kind, seed {s['seed']}):")
    print("| figure | value |\n|---|---:|")
    for key in ("auc_independent_vs_linked", "auc_confounded_vs_linked", "auc_no_link_vs_linked",
                "accuracy_p_none", "three_way_accuracy"):
        print(f"| {key} | {s[key]:.3f} |")
    for kind, value in s["mean_p_none"].items():
        print(f"| mean p_none, {kind} | {value:.3f} |")
    rows = {**report["suites"], **({"tuebingen": report["tuebingen"]} if "tuebingen" in report else {})}
    if rows:
        print("\nlinked pairs against the same pairs with column 2 permuted (no link):")
        print("| suite | pairs | AUC | mean p_none original | mean p_none permuted | original with p_none > 0.5 |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in rows.items():
            print(f"| {name} | {r['n_pairs']} | {r['auc_permuted_vs_original']:.3f} | "
                  f"{r['mean_p_none_original']:.3f} | "
                  f"{r['mean_p_none_permuted']:.3f} | {r['share_original_above_half']:.2f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return report


if __name__ == "__main__":
    main()
