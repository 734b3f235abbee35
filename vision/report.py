"""Write the analysis outputs: CSV tables, report.json, report.md and the figures."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from vision._io import write_json_atomic, write_text_atomic


def _clean(obj: Any) -> Any:
    """JSON has no NaN: turn non-finite floats into null, recursively."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _fmt(v: float) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.9g}"


FEATURE_COLUMNS = ("causal", "anticausal", "object_ratio", "context_ratio", "zero_fraction", "mean_activation",
                   "objectness")


def feature_scores_csv(categories: list[str], arrays: dict[str, np.ndarray]) -> str:
    """One row per (category, feature). Per-feature marginals (zero_fraction, mean_activation) repeat
    on every category's row; objectness is "nan" when the features folder holds no activation maps."""
    K, D = arrays["causal"].shape
    full = {}
    for name in FEATURE_COLUMNS:
        v = np.asarray(arrays.get(name, np.full((K, D), np.nan)), dtype=np.float64)
        full[name] = np.broadcast_to(v, (K, D))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["category", "feature", *FEATURE_COLUMNS])
    for k, c in enumerate(categories):
        for l in range(D):
            w.writerow([c, l] + [_fmt(full[n][k, l]) for n in FEATURE_COLUMNS])
    return buf.getvalue()


def correlations_csv(categories: list[str], rho: np.ndarray) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["category", "feature", "correlation"])
    for k, c in enumerate(categories):
        for l in range(rho.shape[1]):
            w.writerow([c, l, _fmt(rho[k, l])])
    return buf.getvalue()


def _num(v: Any, digits: int = 4) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def _p(v: Any) -> str:
    return "–" if v is None else f"{v:.3g}"


HOW_TO_READ = [
    "## How to read this report",
    "",
    "- **Object ratio** of feature l for category k: s_o = Σ_j |f_l(x_j^c) − f_l(x_j)| / Σ_j |f_l(x_j)|, "
    "over the images j containing k, where x_j^c blacks out k's boxes (the object removed). "
    "High: an *object feature*.",
    "- **Context ratio**: s_c = Σ_j |f_l(x_j^o) − f_l(x_j)| / Σ_j |f_l(x_j)|, where x_j^o keeps only k's boxes "
    "(the context removed). High: a *context feature*.",
    "- **Causal / anticausal**: NCC's P(f_l → c_k) and P(c_k → f_l) on the sample {(f_jl, c_jk)}, c_k being the "
    "category's cross-fitted log-odds. The top q% of features by each score are compared per category.",
    "- **What would support the hypothesis** (Lopez-Paz et al. 2017): top-anticausal features have higher object "
    "ratios than top-causal ones in more categories than *shuffled class variables* give (object-ratio "
    "permutation p < 0.05, count above the null mean), they also beat features with the same marginal shape "
    "(marginal-matched control), and the class variables are good (ROC AUC ≥ the threshold). The paper found no "
    "consistent pattern for the context ratio.",
    "- **Why a permutation test.** The categories share images and features, so their comparisons are not "
    "independent and the sign test overstates the evidence. Shuffling the class variable's rows across images "
    "(one permutation for all categories) keeps that dependence and the features' marginals, and breaks only the "
    "link between features and categories.",
    "",
]


def _ci(ci: dict | None, key: str) -> str:
    v = (ci or {}).get(key)
    return "" if not v else f" [{v[0]:.3f}, {v[1]:.3f}]"


def _category_rows(report: dict) -> list[str]:
    lines = ["| category | images | positives | class AUC | in overall test | top n | object ratio: anticausal | "
             "object ratio: causal | context ratio: anticausal | context ratio: causal | note |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    ncc = report["results"]["ncc"]
    for c, info in report["categories"].items():
        r = ncc["per_category"].get(c)
        auc = _num(info.get("class_variable_auc"), 2)
        head = f"| {c} | {info['n_images_with_category']} | {info['n_positive_labels']} | {auc} |"
        if r is None:
            means = (f" Mean over all features: object ratio {_num(info['mean_object_ratio_all_features'])}, "
                     f"context ratio {_num(info['mean_context_ratio_all_features'])}.")
            lines.append(f"{head} no | – | – | – | – | – | {info['reason']}.{means} |")
            continue
        ci = r.get("ci")
        oa, oc = r["object_ratio_anticausal"], r["object_ratio_causal"]
        ca, cc = r["context_ratio_anticausal"], r["context_ratio_causal"]
        notes = []
        if oa is not None and oc is not None and oa > oc:
            notes.append("object ratio: anticausal > causal")
        if ca is not None and cc is not None and ca > cc:
            notes.append("context ratio: anticausal > causal")
        test = "yes" if info.get("in_overall_test") else f"no ({info.get('left_out_of_overall_test')})"
        lines.append(f"{head} {test} | {r['n_top']} | {_num(oa)}{_ci(ci, 'object_ratio_anticausal')} | "
                     f"{_num(oc)}{_ci(ci, 'object_ratio_causal')} | {_num(ca)}{_ci(ci, 'context_ratio_anticausal')} | "
                     f"{_num(cc)}{_ci(ci, 'context_ratio_causal')} | {'; '.join(notes)} |")
    return lines


def _tests_rows(report: dict) -> list[str]:
    perm = (report.get("tests") or {}).get("permutation") or {}
    tests = report.get("tests") or {}
    lines = ["| score | object ratio: categories anticausal > causal | sign-test p | permutation p | "
             "label-permutation p | context ratio: categories anticausal > causal | sign-test p | permutation p | "
             "label-permutation p |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    names = {"ncc": "NCC", "correlation": "control: ρ (top vs bottom)",
             "abs_correlation": "control: \\|ρ\\| (top vs bottom)"}
    for key, label in names.items():
        o, x = report["results"][key]["object"], report["results"][key]["context"]
        prefix = "" if key == "ncc" else f"{key}_"
        po, px = ((tests.get(f"{r}_ratio") or {}).get(f"{prefix}permutation_p") for r in ("object", "context"))
        lo, lx = ((tests.get(f"{r}_ratio") or {}).get(f"{prefix}label_permutation_p") for r in ("object", "context"))
        lines.append(f"| {label} | {o['n_anticausal_greater']} of {o['n_categories']} | {_p(o['p_value'])} | "
                     f"{_p(po)} | {_p(lo)} | {x['n_anticausal_greater']} of {x['n_categories']} | "
                     f"{_p(x['p_value'])} | {_p(px)} | {_p(lx)} |")
    mm = report["results"].get("marginal_matched")
    if mm:
        o, x = mm["object"], mm["context"]
        lines.append(f"| control: NCC top anticausal vs marginal-matched twins | {o['n_anticausal_greater']} of "
                     f"{o['n_categories']} | {_p(o['p_value'])} | – | – | "
                     f"{x['n_anticausal_greater']} of {x['n_categories']} | {_p(x['p_value'])} | – | – |")
    lines += ["", "Sign test: two-sided binomial test of the counts against 1/2 (ties dropped); it assumes independent "
              "categories. Permutation p: two-sided, the share of shuffles whose count is at least as far from the "
              "null mean as the observed one (the observed counted as one shuffle)."]
    if perm.get("n_permutations"):
        null = {r: tests[f"{r}_ratio"].get("permutation_null_mean") for r in ("object", "context")}
        lines.append(f"Permutation control: {perm['n_permutations']} shuffles (seed {perm['seed']}) over "
                     f"{perm['n_images']} images{' (a seeded subsample)' if perm.get('subsampled') else ''}; null mean "
                     f"count {_num(null['object'], 1)} (object) and {_num(null['context'], 1)} (context).")
    elif perm.get("skipped"):
        lines.append(f"Permutation control not run: {perm['skipped']}.")
    label = (report.get("tests") or {}).get("label_permutation") or {}
    if label.get("skipped"):
        lines.append(f"Label-permutation control not run: {label['skipped']}.")
    elif label.get("n_permutations"):
        null = {r: tests[f"{r}_ratio"].get("label_permutation_null_mean") for r in ("object", "context")}
        lines.append(f"Label-permutation control: the class-variable classifier refitted on {label['n_permutations']} "
                     f"shufflings of the labels, each rescored with NCC; null mean count {_num(null['object'], 1)} "
                     f"(object) and {_num(null['context'], 1)} (context). It keeps what shuffling c breaks: c is "
                     "computed from the very features it is compared with.")
    else:
        lines.append("Label-permutation control: not run (`--label-permutations R`); without it a permutation "
                     "rejection can come from c being computed from the features rather than from the images.")
    lines.append("Marginal-matched control: each top-anticausal feature against the feature nearest to it in "
                 "(zero fraction, mean activation) ranks; the count is of categories where the top-anticausal mean "
                 "exceeds the twins' mean.")
    return lines


def report_markdown(report: dict) -> str:
    lines = [f"# {report['title']}", ""]
    for w in report["warnings"]:
        lines += [f"> **WARNING — {w}.**", ""]
        if "RANDOM" in w:
            lines[-1:] = [">", "> The numbers below test the pipeline, not the paper's hypothesis.", ""]
    if report.get("verdict"):
        lines += [f"**Verdict.** {report['verdict']}", ""]
    b = report.get("backbone") or {}
    weights = b.get("weights", {})
    hashed = f"{weights.get('path')} (sha256 {weights.get('sha256', '')[:16]}…)" if weights.get("sha256") else None
    wdesc = weights.get("name") or hashed or weights.get("kind")
    prep = report["extraction"]["preprocessing"]
    im = report["images"]
    cfg = report["config"]
    lines += [
        f"- Backbone: `{b.get('arch')}` with weights **{wdesc}**; {report['n_features']} features "
        f"({report['n_constant_features']} constant over the analysed images, not scored).",
        f"- Preprocessing: {'; '.join(prep['steps'])}.",
        f"- NCC model: {report['ncc_model'].get('path') or report['ncc_model'].get('kind')}"
        + (f" (sha256 {report['ncc_model']['sha256'][:16]}…)" if report['ncc_model'].get('sha256') else "") + ".",
        f"- Class variable: {report['classifier']['kind']} log-odds, {report['classifier']['training']}"
        + (f" ({report['classifier'].get('folds')} folds)" if report['classifier'].get('folds') else "")
        + f"; categories enter the overall tests with ROC AUC ≥ {cfg.get('min_auc')} and ≥ {cfg.get('min_positives')} "
        "positive images.",
        f"- Images: {im['n_analysed']} analysed ({im['n_background']} background), {len(im['skipped'])} skipped.",
        f"- {report['samples']}",
        f"- Top {cfg['top_percent']}% of features by each score; seed {report['seed']}; ncc {report['version']}.",
        "",
        *HOW_TO_READ,
        "## Per category (NCC)",
        "",
        f"Brackets: {int(cfg.get('bootstrap') or 0)}-resample bootstrap 95% intervals over the images of the category "
        "(top features held fixed).",
        "",
        *_category_rows(report),
        "", "## Overall tests", "",
        *_tests_rows(report),
        "",
    ]
    lines += _objectness_lines(report)
    if report.get("antisymmetry_max_abs_deviation") is not None:
        lines.append(f"Check: max |causal + anticausal − 1| = {report['antisymmetry_max_abs_deviation']:.2e} "
                     "(0 for an exactly antisymmetric NCC).")
    if im["skipped"]:
        lines += ["", "## Skipped images", ""] + [f"- `{s['image']}`: {s['reason']}" for s in im["skipped"][:50]]
        if len(im["skipped"]) > 50:
            lines.append(f"- … and {len(im['skipped']) - 50} more (see report.json)")
    lines += ["", "Outputs: " + ", ".join(f"`{o}`" for o in report.get("outputs", [])), ""]
    return "\n".join(lines)


def _objectness_lines(report: dict) -> list[str]:
    obj = report.get("objectness")
    if not obj:
        return []
    if obj.get("skipped"):
        return ["## Box-mass objectness", "", f"Not computed: {obj['skipped']}.", ""]
    lines = ["## Box-mass objectness", "",
             "Objectness of feature l for category k: the share of channel l's activation mass (last convolutional "
             "map of the original image) inside k's boxes, averaged over the images containing k. A feature spread "
             "evenly scores the boxes' area share. Spearman correlations over features, median over categories:", "",
             "| with | median ρ_s | categories |", "|---|---:|---:|"]
    for key, label in (("object_ratio", "object ratio"), ("context_ratio", "context ratio"),
                       ("anticausal", "NCC anticausal score")):
        m = obj["correlations"].get(key) or {}
        lines.append(f"| {label} | {_num(m.get('median'), 3)} | {m.get('n_categories', 0)} |")
    lines.append("")
    return lines


def write_outputs(out_dir, report: dict, categories: list[str], arrays: dict[str, np.ndarray], feats, cfg) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outputs = ["feature_scores.csv", "feature_correlations.csv", "report.json", "report.md"]
    write_text_atomic(out / "feature_scores.csv", feature_scores_csv(categories, arrays))
    write_text_atomic(out / "feature_correlations.csv", correlations_csv(categories, arrays["correlation"]))
    if cfg.figures:
        from vision import figures

        figures.ratio_figure(out / "ratios_by_category.png", report, arrays)
        outputs.append("ratios_by_category.png")
        if "objectness" in arrays:
            from vision.objectness import MAP
            from vision.store import FeatureStore

            maps = FeatureStore(report["features_dir"]).iter_chunks(("image_index", MAP))
            outputs += figures.feature_maps_figures(out, report, arrays, feats, maps)
        if cfg.examples > 0:
            note = figures.examples_figure(out / "examples.png", feats, cfg.examples, cfg.seed)
            if note:
                report["warnings"].append(note)
            else:
                outputs.append("examples.png")
    report["outputs"] = outputs
    write_json_atomic(out / "report.json", _clean(report))
    write_text_atomic(out / "report.md", report_markdown(_clean(report)))
