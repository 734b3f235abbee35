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


def feature_scores_csv(categories: list[str], arrays: dict[str, np.ndarray]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["category", "feature", "causal", "anticausal", "object_ratio", "context_ratio"])
    for k, c in enumerate(categories):
        for l in range(arrays["causal"].shape[1]):
            w.writerow([c, l] + [_fmt(arrays[n][k, l]) for n in ("causal", "anticausal", "object_ratio", "context_ratio")])
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


def report_markdown(report: dict) -> str:
    lines = [f"# {report['title']}", ""]
    for w in report["warnings"]:
        lines += [f"> **WARNING — {w}.**", ""]
        if "RANDOM" in w:
            lines[-1:] = [">", "> The numbers below test the pipeline, not the paper's hypothesis.", ""]
    b = report.get("backbone") or {}
    weights = b.get("weights", {})
    wdesc = weights.get("name") or (f"{weights.get('path')} (sha256 {weights.get('sha256', '')[:16]}…)" if weights.get("sha256") else weights.get("kind"))
    prep = report["extraction"]["preprocessing"]
    im = report["images"]
    lines += [
        f"- Backbone: `{b.get('arch')}` with weights **{wdesc}**; {report['n_features']} features "
        f"({report['n_constant_features']} constant over the analysed images, not scored).",
        f"- Preprocessing: {'; '.join(prep['steps'])}.",
        f"- NCC model: {report['ncc_model'].get('path') or report['ncc_model'].get('kind')}"
        + (f" (sha256 {report['ncc_model']['sha256'][:16]}…)" if report['ncc_model'].get('sha256') else "") + ".",
        f"- Class variable: {report['classifier']['kind']} log-odds, {report['classifier']['training']}"
        + (f" ({report['classifier'].get('folds')} folds)" if report['classifier'].get('folds') else "") + ".",
        f"- Images: {im['n_analysed']} analysed ({im['n_background']} background), {len(im['skipped'])} skipped.",
        f"- {report['samples']}",
        f"- Top {report['config']['top_percent']}% of features by each score; seed {report['seed']}; ncc {report['version']}.",
        "",
        "## Per category (NCC)",
        "",
        "| category | images | top n | object ratio: anticausal | object ratio: causal | context ratio: anticausal | context ratio: causal | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    ncc = report["results"]["ncc"]
    for c, info in report["categories"].items():
        r = ncc["per_category"].get(c)
        if r is None:
            means = (f" Mean over all features: object ratio {_num(info['mean_object_ratio_all_features'])}, "
                     f"context ratio {_num(info['mean_context_ratio_all_features'])}.")
            lines.append(f"| {c} | {info['n_images_with_category']} | – | – | – | – | – | {info['reason']}.{means} |")
            continue
        oa, oc = r["object_ratio_anticausal"], r["object_ratio_causal"]
        mark = "anticausal > causal" if (oa is not None and oc is not None and oa > oc) else ""
        lines.append(f"| {c} | {info['n_images_with_category']} | {r['n_top']} | {_num(oa)} | {_num(oc)} | "
                     f"{_num(r['context_ratio_anticausal'])} | {_num(r['context_ratio_causal'])} | {mark} |")
    lines += ["", "## Overall: categories where the top-anticausal mean exceeds the top-causal mean", "",
              "| score | object ratio | sign-test p | context ratio | sign-test p |", "|---|---|---:|---|---:|"]
    names = {"ncc": "NCC", "correlation": "control: ρ (top vs bottom)", "abs_correlation": "control: \\|ρ\\| (top vs bottom)"}
    for key, label in names.items():
        o, x = report["results"][key]["object"], report["results"][key]["context"]
        lines.append(f"| {label} | {o['n_anticausal_greater']} of {o['n_categories']} | {_p(o['p_value'])} | "
                     f"{x['n_anticausal_greater']} of {x['n_categories']} | {_p(x['p_value'])} |")
    lines += ["", "Sign test: two-sided binomial test of the counts above against 1/2 (ties dropped).",
              "Control: correlation ρ(f_l, c_k) replaces NCC; as NCC's top causal features are its bottom "
              "anticausal ones, the control compares the top q% by ρ (or |ρ|) with the bottom q%.", ""]
    if report.get("antisymmetry_max_abs_deviation") is not None:
        lines.append(f"Check: max |causal + anticausal − 1| = {report['antisymmetry_max_abs_deviation']:.2e} "
                     "(0 for an exactly antisymmetric NCC).")
    auc = report["classifier"].get("auc_on_analysed_images") or {}
    if auc:
        lines.append("Class-variable ROC AUC on the analysed images: "
                     + ", ".join(f"{c} {v:.2f}" for c, v in auc.items()) + ".")
    if im["skipped"]:
        lines += ["", "## Skipped images", ""] + [f"- `{s['image']}`: {s['reason']}" for s in im["skipped"][:50]]
        if len(im["skipped"]) > 50:
            lines.append(f"- … and {len(im['skipped']) - 50} more (see report.json)")
    lines += ["", "Outputs: " + ", ".join(f"`{o}`" for o in report.get("outputs", [])), ""]
    return "\n".join(lines)


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
        if cfg.examples > 0:
            note = figures.examples_figure(out / "examples.png", feats, cfg.examples, cfg.seed)
            if note:
                report["warnings"].append(note)
            else:
                outputs.append("examples.png")
    report["outputs"] = outputs
    write_json_atomic(out / "report.json", _clean(report))
    write_text_atomic(out / "report.md", report_markdown(_clean(report)))
