"""The headline tests of an analysis and the one sentence that says what they allow a reader to conclude."""
from __future__ import annotations


def overall_tests(results: dict, permutation: dict | None, label_permutation: dict | None = None) -> dict:
    """The headline tests: NCC's sign test beside the permutation and marginal-matched controls."""
    tests: dict = {}
    for ratio in ("object", "context"):
        sign = results["ncc"][ratio]
        entry = {"n_categories": sign["n_categories"], "n_anticausal_greater": sign["n_anticausal_greater"],
                 "sign_test_p": sign["p_value"],
                 "marginal_matched_n_greater": results["marginal_matched"][ratio]["n_anticausal_greater"],
                 "marginal_matched_sign_test_p": results["marginal_matched"][ratio]["p_value"],
                 "permutation_p": None, "permutation_p_greater": None,
                 "label_permutation_p": None, "label_permutation_p_greater": None}
        for prefix, control in (("permutation", permutation), ("label_permutation", label_permutation)):
            if control and "ncc" in control:
                perm = control["ncc"][ratio]
                entry.update({f"{prefix}_p": perm["p"], f"{prefix}_p_greater": perm["p_greater"],
                              f"{prefix}_observed": perm["observed"], f"{prefix}_null_mean": perm["null_mean"],
                              f"{prefix}_null_counts": perm["null_counts"]})
                for other in ("correlation", "abs_correlation"):
                    entry[f"{other}_{prefix}_p"] = control[other][ratio]["p"]
        tests[f"{ratio}_ratio"] = entry
    for key, control in (("permutation", permutation), ("label_permutation", label_permutation)):
        tests[key] = ({k: v for k, v in control.items() if k not in ("ncc", "correlation", "abs_correlation")}
                      if control else None)
    return tests


REFIT_NULL = "classifiers refitted on shuffled labels"
SHUFFLE_NULL = "shuffled class variables"


def verdict(report: dict) -> str:
    """One sentence on what the tests allow a reader to conclude.

    The refitted-classifier control is the stricter null when it ran: every class variable is a
    function of the features it is compared with, a dependence that shuffling c itself destroys,
    so a shuffled-c rejection alone can come from it rather than from what the images show."""
    tests = report["tests"]
    n = tests["object_ratio"]["n_categories"]
    head = ("Pipeline test only (random backbone weights): " if any("RANDOM" in w for w in report["warnings"])
            else "")
    if n == 0:
        return head + ("no category passes the class-variable quality bar, so there is no overall test "
                       "(see the per-category class-variable AUCs; lower --min-auc to test anyway)")
    parts = []
    for ratio in ("object", "context"):
        t = tests[f"{ratio}_ratio"]
        count = f"{ratio} ratio {t['n_anticausal_greater']} of {n}"
        if t["label_permutation_p"] is not None:
            p, mean, null = t["label_permutation_p"], t["label_permutation_null_mean"], REFIT_NULL
        elif t["permutation_p"] is not None:
            p, mean, null = t["permutation_p"], t["permutation_null_mean"], SHUFFLE_NULL
        else:
            parts.append(f"{count}, sign test p = {_fmt_p(t['sign_test_p'])}, no permutation control (the sign test "
                         "assumes independent categories)")
            continue
        if p < 0.05:
            side = "more" if t["n_anticausal_greater"] > mean else "less"
            text = f"top-anticausal features beat top-causal ones {side} often than under {null}"
        else:
            text = f"no evidence: {null} give counts like these"
        text = f"{count} ({null}: {mean:.1f} on average; permutation p = {_fmt_p(p)}): {text}"
        shuffle_rejects = t["permutation_p"] is not None and t["permutation_p"] < 0.05
        if null == REFIT_NULL and p >= 0.05 and shuffle_rejects:
            text += (" (shuffling c itself rejects: the pattern comes from c being computed from the features, "
                     "not from what the images show)")
        elif null == SHUFFLE_NULL and p < 0.05:
            text += ("; but c is computed from the features, a link shuffling breaks: confirm with "
                     "--label-permutations before reading this as evidence")
        if p < 0.05 and t["n_anticausal_greater"] > mean:  # a rejection in the hypothesis' direction
            twins = t["marginal_matched_n_greater"]
            agree = "agrees" if twins > n / 2 else "does not agree: the marginals may explain it"
            text += f"; the marginal-matched control {agree} (top anticausal beat their twins in {twins} of {n})"
        parts.append(text)
    return head + "; ".join(parts) + "."


def _fmt_p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"
