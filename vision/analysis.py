"""From extracted features to causal/anticausal feature scores, ratios, sign tests and a report.

Which images enter each statistic:

* **Ratios** of category k use the images that contain k (the interventions exist only there).
* **The class variable and the NCC sample** {(f_jl, c_jk)} use *all analysed images*: every
  image that decoded (the images containing at least one selected category, plus background
  images if they were extracted). This is the paper's choice (one sample over its ~99,000
  images), and the only one that lets c_k vary with the presence of k: restricted to the images
  containing k, the class variable would be nearly constant and NCC would see no signal.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ncc._version import __version__
from vision.annotations import Dataset
from vision.backbones import warn_random_weights
from vision.bootstrap import category_intervals
from vision.classifier import LogOddsClassifier, cross_fit_log_odds
from vision.controls import (marginal_matched, permutation_control, quality_mask, refit_replicates,
                             shuffled_class_replicates, subsample_rows, zero_fraction)
from vision.objectness import OBJECTNESS_KEYS, box_mass_objectness, objectness_summary
from vision.scores import (RatioAccumulator, compare_categories, correlations, ncc_direction_scores)
from vision.store import FeatureStore

Scorer = Callable[[list[np.ndarray]], np.ndarray]

#: Below this max |causal + anticausal - 1| the scorer is treated as antisymmetric, and the
#: permutation control scores one orientation per pair (half the cost).
ANTISYMMETRY_TOLERANCE = 1e-5

#: Chunk arrays the ratios and the bootstrap read (the activation maps are read only for objectness).
FEATURE_KEYS = ("image_index", "original", "pair_image", "pair_category", "context_only", "object_only")

NCC_SAMPLE_NOTE = ("NCC and correlation use one sample per (category, feature) over all analysed images "
                   "(every decoded image of the features folder), as in the paper; ratios use the images "
                   "that contain the category.")


@dataclass
class AnalysisConfig:
    classifier: str = "mlp"  # "mlp": the paper's two hidden layers of 512; "logreg": cheaper, convex
    folds: int = 5  # cross-fitting folds: no image is scored by a classifier trained on it
    classifier_max_iter: int = 200  # optimiser budget of the class-variable classifier
    top_percent: float = 1.0  # q: top q% of features by each score (paper: 1%, i.e. 5 of 512)
    seed: int = 0  # folds, classifier initialisation
    ncc_max_points_per_call: int = 20_000_000  # memory budget of one score_pairs call (points)
    examples: int = 4  # images in the example-interventions figure (0: no figure)
    figures: bool = True
    # A class variable that barely predicts its category is close to noise: such categories are
    # reported but left out of the overall tests (set 0 to keep them).
    min_auc: float = 0.75
    min_positives: int = 20  # fewer positive images than this: left out of the overall tests too
    permutations: int = 100  # R shuffles of the class variable for the permutation control (0: none)
    permutation_max_images: int = 2000  # the permutation controls score one seeded subsample of this many images
    # R refits of the class-variable classifier on shuffled labels (0: none): the stricter null, as
    # c stays a function of the features; costs R classifier fits on top of R NCC scorings.
    label_permutations: int = 0
    bootstrap: int = 1000  # resamples of images for the per-category confidence intervals (0: none)

    def __post_init__(self) -> None:
        if self.classifier not in ("mlp", "logreg"):
            raise ValueError(f"classifier must be 'mlp' or 'logreg', got {self.classifier!r}")
        if not 0 < self.top_percent <= 100:
            raise ValueError(f"top percent must be in (0, 100], got {self.top_percent}")
        if self.folds < 2:
            raise ValueError(f"folds must be >= 2, got {self.folds}")
        for name in ("min_positives", "permutations", "label_permutations", "bootstrap"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be >= 0, got {getattr(self, name)}")
        if self.permutation_max_images < 2:
            raise ValueError(f"permutation max images must be >= 2, got {self.permutation_max_images}")
        if not 0 <= self.min_auc <= 1:
            raise ValueError(f"min AUC must be in [0, 1], got {self.min_auc}")


@dataclass
class LoadedFeatures:
    dataset: Dataset
    manifest: dict
    image_index: np.ndarray  # (N,) rows of dataset.images that decoded
    original: np.ndarray  # (N, D)
    ratios: RatioAccumulator
    failed: list[dict]

    def labels(self, categories: list[str] | None = None) -> np.ndarray:
        cats = categories or self.dataset.categories
        return np.array([[c in self.dataset.images[i].boxes for c in cats] for i in self.image_index],
                        dtype=np.int64).reshape(len(self.image_index), len(cats))


def load_features(features_dir: str | os.PathLike, with_ratios: bool = True) -> LoadedFeatures:
    """Read every chunk once: keep original features in memory, accumulate ratio sums on the fly."""
    store = FeatureStore(features_dir)
    manifest = store.manifest()
    dataset = store.dataset()
    dim = int(manifest["config"]["feature_dim"])
    acc = RatioAccumulator(len(dataset.categories), dim)
    idx, orig = [], []
    for chunk in store.iter_chunks(FEATURE_KEYS):
        idx.append(chunk["image_index"])
        orig.append(chunk["original"])
        if with_ratios:
            acc.add(chunk["image_index"], chunk["original"], chunk["pair_image"], chunk["pair_category"],
                    chunk["context_only"], chunk["object_only"])
    image_index = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    original = np.concatenate(orig).astype(np.float64) if orig else np.zeros((0, dim))
    order = np.argsort(image_index, kind="stable")
    return LoadedFeatures(dataset, manifest, image_index[order], original[order], acc, store.failed_images())


def _default_scorer(ncc_model) -> Scorer:
    def run(pairs: list[np.ndarray]) -> np.ndarray:
        import ncc

        return np.asarray(ncc.score_pairs(pairs, model=ncc_model), dtype=np.float64)

    return run


def ncc_model_identity(ncc_model: Any, scorer: Scorer | None) -> dict:
    """What the report says about the NCC model: file + SHA-256, the shipped default, or a custom scorer."""
    from vision._io import sha256_file

    if scorer is not None:
        return {"kind": "custom scorer", "name": getattr(scorer, "__name__", type(scorer).__name__)}
    if ncc_model is None:
        ident: dict = {"kind": "shipped default"}
        try:
            from ncc.serialization import DEFAULT_MODEL_PATH

            if Path(DEFAULT_MODEL_PATH).is_file():
                ident.update(path=str(DEFAULT_MODEL_PATH), sha256=sha256_file(DEFAULT_MODEL_PATH))
        except Exception:  # noqa: BLE001 - identity is informative; never fail the analysis for it
            pass
        return ident
    if isinstance(ncc_model, (str, os.PathLike)):
        return {"kind": "file", "path": str(Path(ncc_model).resolve()), "sha256": sha256_file(ncc_model)}
    return {"kind": "in-memory model", "class": type(ncc_model).__name__}


def class_variable(feats: LoadedFeatures, cfg: AnalysisConfig, train: LoadedFeatures | None
                   ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Log-odds c (N, K), a mask of categories whose c can be used, and a description."""
    from sklearn.metrics import roc_auc_score

    cats = feats.dataset.categories
    Y = feats.labels()
    n_pos = Y.sum(axis=0)
    info: dict = {"kind": cfg.classifier, "hidden": [512, 512] if cfg.classifier == "mlp" else None,
                  "max_iter": cfg.classifier_max_iter}
    if train is None:
        C, _ = cross_fit_log_odds(feats.original, Y, n_folds=cfg.folds, kind=cfg.classifier,
                                  max_iter=cfg.classifier_max_iter, random_state=cfg.seed)
        info.update(training="cross-fitted", folds=cfg.folds)
        # With constant labels cross-fitting only yields fold-size noise around the prior: unusable.
        usable = (n_pos > 0) & (n_pos < len(Y))
    else:
        Yt = train.labels(cats)
        clf = LogOddsClassifier(kind=cfg.classifier, max_iter=cfg.classifier_max_iter,
                                random_state=cfg.seed).fit(train.original, Yt)
        C = clf.decision_function(feats.original)
        info.update(training="separate training set", n_training_images=int(len(Yt)),
                    training_positives={c: int(v) for c, v in zip(cats, Yt.sum(axis=0))})
        usable = ~clf.constant_
    usable &= C.std(axis=0) > 0
    auc = {}
    for k, c in enumerate(cats):
        if usable[k] and 0 < n_pos[k] < len(Y):
            auc[c] = float(roc_auc_score(Y[:, k], C[:, k]))
    info["auc_on_analysed_images"] = auc
    return C, usable, info


def analyze(features_dir: str | os.PathLike, out_dir: str | os.PathLike, config: AnalysisConfig | None = None,
            *, ncc_model: Any = None, scorer: Scorer | None = None,
            train_features: str | os.PathLike | None = None, progress: bool = True, **overrides: Any) -> dict:
    """Score every (category, feature), compare top causal vs top anticausal features, write the report.

    Parameters
    ----------
    features_dir
        A folder written by :func:`vision.extract_features` (all shards complete).
    out_dir
        Gets ``feature_scores.csv``, ``feature_correlations.csv``, ``report.json``, ``report.md``
        and the figures.
    config
        :class:`AnalysisConfig`; keyword ``overrides`` replace its fields (e.g. ``top_percent=5``).
    ncc_model
        Passed to :func:`ncc.score_pairs`: ``None`` (the shipped model), a path, or a loaded model.
    scorer
        Instead of NCC, any function ``list of (n, 2) arrays -> P(first column causes second)``.
    train_features
        Features folder of a separate training set for the class-variable classifier (original
        versions suffice); without it the classifier is cross-fitted on the analysed images.

    Returns the report (the content of ``report.json``).
    """
    from vision.report import write_outputs

    cfg = replace(config or AnalysisConfig(), **overrides)
    t0 = time.perf_counter()
    feats = load_features(features_dir)
    cats = feats.dataset.categories
    if len(feats.image_index) < 2:
        raise ValueError(f"{features_dir}: only {len(feats.image_index)} image(s) decoded; need at least 2")
    train = load_features(train_features, with_ratios=False) if train_features is not None else None
    if train is not None:
        a, b = feats.manifest["config"], train.manifest["config"]
        differ = [k for k in ("arch", "weights", "preprocessing", "feature_dim") if a.get(k) != b.get(k)]
        if differ:
            raise ValueError(f"{train_features}: training features were extracted with other settings ({', '.join(differ)}) "
                             f"than {features_dir}; the classifier must see the same kind of features")

    C, usable, clf_info = class_variable(feats, cfg, train)
    F = feats.original
    features_ok = F.std(axis=0) > 0  # a constant feature has no direction to find
    if not np.isfinite(F).all() or not features_ok.any():
        from vision.extract import backbone_name

        b = feats.manifest.get("backbone") or {}
        raise ValueError(f"{features_dir}: every feature of backbone {backbone_name(b.get('arch', '?'), b.get('weights'))} "
                         "is constant or non-finite; nothing to score (are its weights broken?)")
    object_ratio, context_ratio = feats.ratios.ratios()

    ncc_scorer = scorer or _default_scorer(ncc_model)
    causal, anticausal, n_calls = ncc_direction_scores(
        F, C, ncc_scorer, categories_ok=usable, features_ok=features_ok,
        max_points_per_call=cfg.ncc_max_points_per_call, progress=progress)
    rho = correlations(F, C)
    rho[~usable, :] = np.nan

    has_images = feats.ratios.n_images > 0
    cmp_usable = usable & has_images
    Y = feats.labels()
    in_test, left_out = quality_mask(cats, cmp_usable, clf_info["auc_on_analysed_images"], Y.sum(axis=0),
                                     cfg.min_auc, cfg.min_positives)
    results = {
        "ncc": compare_categories(cats, anticausal, causal, object_ratio, context_ratio, cfg.top_percent,
                                  cmp_usable, in_test),
        # Control: correlation in NCC's place. NCC's top causal features are its bottom anticausal
        # ones (the score is antisymmetric), so the control compares top-q% by rho with bottom-q% by rho.
        "correlation": compare_categories(cats, rho, -rho, object_ratio, context_ratio, cfg.top_percent,
                                          cmp_usable, in_test),
        "abs_correlation": compare_categories(cats, np.abs(rho), -np.abs(rho), object_ratio, context_ratio,
                                              cfg.top_percent, cmp_usable, in_test),
    }
    both = np.isfinite(causal) & np.isfinite(anticausal)
    antisym = float(np.max(np.abs(causal[both] + anticausal[both] - 1))) if both.any() else None
    marginals = {"zero_fraction": zero_fraction(F), "mean_activation": F.mean(axis=0)}
    results["marginal_matched"] = marginal_matched(
        cats, results["ncc"]["per_category"], np.column_stack(list(marginals.values())),
        object_ratio, context_ratio, in_test)
    permutation, label_permutation = _permutation_controls(
        feats, cfg, train, C, ncc_scorer, categories=cats, in_test=in_test, features_ok=features_ok,
        object_ratio=object_ratio, context_ratio=context_ratio, top_percent=cfg.top_percent,
        antisymmetric=antisym is not None and antisym < ANTISYMMETRY_TOLERANCE,
        max_points_per_call=cfg.ncc_max_points_per_call, progress=progress)
    store = FeatureStore(features_dir)
    box_mass = box_mass_objectness(store.iter_chunks(OBJECTNESS_KEYS), len(cats), F.shape[1])
    if cfg.bootstrap > 0:
        for c, ci in category_intervals(store.iter_chunks(FEATURE_KEYS), results["ncc"]["per_category"], cats,
                                        cfg.bootstrap, cfg.seed).items():
            results["ncc"]["per_category"][c]["ci"] = ci

    warnings = list(feats.manifest.get("backbone", {}).get("notes", []))
    warn_random_weights(warnings)
    if not cmp_usable.any():
        warnings.append("no category has a class variable that varies over the analysed images, so there are no "
                        "NCC scores and no sign tests; only the object/context ratios are reported")
    if left_out:
        warnings.append(f"{len(left_out)} of {int(cmp_usable.sum())} scored categories are left out of the overall "
                        f"tests because their class variable is weak (ROC AUC < {cfg.min_auc:g} or fewer than "
                        f"{cfg.min_positives} positives): {', '.join(left_out)}")
    report = {
        "title": "Causal and anticausal features of object categories (Lopez-Paz et al. 2017, image experiment)",
        "warnings": warnings,
        "version": __version__,
        "seed": cfg.seed,
        "config": asdict(cfg),
        "features_dir": str(Path(features_dir).resolve()),
        "extraction": feats.manifest["config"],
        "backbone": feats.manifest.get("backbone"),
        "ncc_model": ncc_model_identity(ncc_model, scorer),
        "images": _images_info(feats),
        "samples": NCC_SAMPLE_NOTE,
        "n_features": int(F.shape[1]),
        "n_constant_features": int((~features_ok).sum()),
        "classifier": clf_info,
        "ncc_calls": n_calls,
        "antisymmetry_max_abs_deviation": antisym,
        "categories": _categories_info(feats, cats, usable, has_images, in_test, left_out, clf_info, Y,
                                       object_ratio, context_ratio),
        "results": results,
        "tests": overall_tests(results, permutation, label_permutation),
        "objectness": None,
        "seconds": None,
    }
    report["verdict"] = verdict(report)
    arrays = {"causal": causal, "anticausal": anticausal, "object_ratio": object_ratio,
              "context_ratio": context_ratio, "correlation": rho, **marginals}
    if box_mass is not None:
        arrays["objectness"] = box_mass["objectness"]
    report["objectness"] = objectness_summary(box_mass, cats, arrays, cmp_usable)
    report["seconds"] = round(time.perf_counter() - t0, 3)
    write_outputs(out_dir, report, cats, arrays, feats, cfg)
    return report


def _images_info(feats: LoadedFeatures) -> dict:
    return {
        "n_in_dataset": len(feats.dataset.images),
        "n_analysed": int(len(feats.image_index)),
        "n_background": int(sum(not feats.dataset.images[i].boxes for i in feats.image_index)),
        "n_without_selected_categories_in_annotations": feats.dataset.n_without_selected,
        "n_zero_area_boxes_skipped": feats.dataset.n_zero_area_boxes,
        "skipped": feats.dataset.skipped + feats.failed,
        "annotation_files": feats.dataset.annotation_files,
    }


def _categories_info(feats, cats, usable, has_images, in_test, left_out, clf_info, Y, object_ratio,
                     context_ratio) -> dict:
    per_category = {}
    for k, c in enumerate(cats):
        reason = None
        if not usable[k]:
            n_pos = int(Y[:, k].sum())
            reason = ("the category is in every analysed image, so its class variable does not vary: NCC and "
                      "correlation are undefined (add images without it, e.g. --background-images on a dataset that "
                      "has some, or train the classifier on a separate set with negatives: --train-annotations)"
                      if n_pos == len(Y) else "the class variable is constant (no label variation to learn)")
        elif not has_images[k]:
            reason = "no image with a usable box of this category"
        per_category[c] = {
            "n_images_with_category": int(feats.ratios.n_images[k]),
            "n_positive_labels": int(Y[:, k].sum()),
            "class_variable_auc": clf_info["auc_on_analysed_images"].get(c),
            "scored": bool(usable[k] and has_images[k]), "reason": reason,
            "in_overall_test": bool(in_test[k]), "left_out_of_overall_test": left_out.get(c),
            "mean_object_ratio_all_features": _nanmean(object_ratio[k]),
            "mean_context_ratio_all_features": _nanmean(context_ratio[k]),
        }
    return per_category


def _permutation_controls(feats: LoadedFeatures, cfg: AnalysisConfig, train: LoadedFeatures | None, C: np.ndarray,
                          scorer: Scorer, **common: Any) -> tuple[dict | None, dict | None]:
    """The shuffled-class-variable and the refitted-classifier permutation controls, on the same images."""
    F = feats.original
    rows = subsample_rows(len(F), cfg.permutation_max_images, cfg.seed)
    meta = {"subsampled": bool(len(rows) < len(F)), "seed": cfg.seed}
    shuffled = refitted = None
    if cfg.permutations > 0:
        shuffled = permutation_control(F[rows], shuffled_class_replicates(C[rows], cfg.permutations, cfg.seed),
                                       scorer, **common) | meta
    if cfg.label_permutations > 0:
        X = F[rows]
        if train is None:
            def fit(Y):
                return cross_fit_log_odds(X, Y, n_folds=cfg.folds, kind=cfg.classifier,
                                          max_iter=cfg.classifier_max_iter, random_state=cfg.seed)[0]
            labels, observed = feats.labels()[rows], (C if len(rows) == len(F) else None)
        else:
            def fit(Y):
                return LogOddsClassifier(kind=cfg.classifier, max_iter=cfg.classifier_max_iter,
                                         random_state=cfg.seed).fit(train.original, Y).decision_function(X)
            labels, observed = train.labels(feats.dataset.categories), C[rows]
        replicates = refit_replicates(labels, fit, cfg.label_permutations, cfg.seed, observed=observed,
                                      progress=common.get("progress", False))
        refitted = permutation_control(X, replicates, scorer, desc="NCC label permutations", **common) | meta
    return shuffled, refitted


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
        parts.append(text)
    return head + "; ".join(parts) + "."


def _fmt_p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"


def _nanmean(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None
