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
from typing import Any

import numpy as np

from ncc._version import __version__
from vision.backbones import warn_random_weights
from vision.bootstrap import category_intervals
from vision.classifier import LogOddsClassifier, cross_fit_log_odds
from vision.controls import (
    marginal_matched,
    permutation_control,
    quality_mask,
    refit_replicates,
    shuffled_class_replicates,
    subsample_rows,
    zero_fraction,
)
from vision.features import FEATURE_KEYS, LoadedFeatures, load_features
from vision.ncc_scorer import Scorer, default_scorer, ncc_model_identity
from vision.objectness import OBJECTNESS_KEYS, box_mass_objectness, objectness_summary
from vision.scores import compare_categories, correlations, ncc_direction_scores
from vision.store import FeatureStore
from vision.verdict import REFIT_NULL, SHUFFLE_NULL, overall_tests, verdict

#: Below this max |causal + anticausal - 1| the scorer is treated as antisymmetric, and the
#: permutation control scores one orientation per pair (half the cost).
ANTISYMMETRY_TOLERANCE = 1e-5

TITLE = "Causal and anticausal features of object categories (Lopez-Paz et al. 2017, image experiment)"

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
    # R refits of the class-variable classifier on shuffled labels (0: none): the null the verdict
    # uses, as c stays a function of the features (shuffling c breaks that). 39: p can reach 0.025.
    # Costs R classifier fits and R NCC scorings, and only runs when a category passes the quality bar.
    label_permutations: int = 39
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
    feats, train = _load_inputs(features_dir, train_features)
    cats = feats.dataset.categories
    C, usable, clf_info = class_variable(feats, cfg, train)
    F = feats.original
    features_ok = _usable_features(feats, features_dir)
    object_ratio, context_ratio = feats.ratios.ratios()

    ncc_scorer = scorer or default_scorer(ncc_model)
    causal, anticausal, n_calls, rho = _scores(F, C, usable, features_ok, ncc_scorer, cfg, progress)

    has_images = feats.ratios.n_images > 0
    cmp_usable = usable & has_images
    Y = feats.labels()
    in_test, left_out = quality_mask(cats, cmp_usable, clf_info["auc_on_analysed_images"], Y.sum(axis=0),
                                     cfg.min_auc, cfg.min_positives)
    ratios = (object_ratio, context_ratio)
    marginals = {"zero_fraction": zero_fraction(F), "mean_activation": F.mean(axis=0)}
    results = _comparisons(cats, causal, anticausal, rho, ratios, marginals, cmp_usable, in_test, cfg)
    antisym = _antisymmetry(causal, anticausal)
    permutation, label_permutation = _permutation_controls(
        feats, cfg, train, C, ncc_scorer, in_test=in_test, features_ok=features_ok, ratios=ratios,
        antisymmetric=antisym is not None and antisym < ANTISYMMETRY_TOLERANCE, progress=progress)
    store = FeatureStore(features_dir)
    box_mass = box_mass_objectness(store.iter_chunks(OBJECTNESS_KEYS), len(cats), F.shape[1])
    _add_intervals(store, results, cats, cfg)

    report = {
        "title": TITLE,
        "warnings": _warnings(feats, cmp_usable, left_out, cfg),
        **_provenance(feats, cfg, features_dir, ncc_model, scorer),
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
              "context_ratio": context_ratio, "correlation": rho, **marginals,
              **({"objectness": box_mass["objectness"]} if box_mass is not None else {})}
    report["objectness"] = objectness_summary(box_mass, cats, arrays, cmp_usable)
    report["seconds"] = round(time.perf_counter() - t0, 3)
    write_outputs(out_dir, report, cats, arrays, feats, cfg)
    return report


def _scores(F: np.ndarray, C: np.ndarray, usable: np.ndarray, features_ok: np.ndarray, scorer: Scorer,
            cfg: AnalysisConfig, progress: bool) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """NCC's causal and anticausal scores of every (category, feature), its number of calls, and the
    correlations (the control)."""
    causal, anticausal, n_calls = ncc_direction_scores(
        F, C, scorer, categories_ok=usable, features_ok=features_ok,
        max_points_per_call=cfg.ncc_max_points_per_call, progress=progress)
    rho = correlations(F, C)
    rho[~usable, :] = np.nan  # no class variable, no correlation
    return causal, anticausal, n_calls, rho


def _antisymmetry(causal: np.ndarray, anticausal: np.ndarray) -> float | None:
    """max |causal + anticausal - 1| over the scored pairs (None: nothing scored)."""
    both = np.isfinite(causal) & np.isfinite(anticausal)
    return float(np.max(np.abs(causal[both] + anticausal[both] - 1))) if both.any() else None


def _provenance(feats: LoadedFeatures, cfg: AnalysisConfig, features_dir, ncc_model, scorer) -> dict:
    """Version, seed, config and where the features and the models came from (report keys, in order)."""
    return {
        "version": __version__,
        "seed": cfg.seed,
        "config": asdict(cfg),
        "features_dir": str(Path(features_dir).resolve()),
        "extraction": feats.manifest["config"],
        "backbone": feats.manifest.get("backbone"),
        "ncc_model": ncc_model_identity(ncc_model, scorer),
    }


def _add_intervals(store: FeatureStore, results: dict, cats: list[str], cfg: AnalysisConfig) -> None:
    """Per-category bootstrap intervals of the NCC comparison (resampling images)."""
    if cfg.bootstrap > 0:
        for c, ci in category_intervals(store.iter_chunks(FEATURE_KEYS), results["ncc"]["per_category"], cats,
                                        cfg.bootstrap, cfg.seed).items():
            results["ncc"]["per_category"][c]["ci"] = ci


def _load_inputs(features_dir, train_features) -> tuple[LoadedFeatures, LoadedFeatures | None]:
    """The analysed features and, if given, the classifier's training features (extracted alike)."""
    feats = load_features(features_dir)
    if len(feats.image_index) < 2:
        raise ValueError(f"{features_dir}: only {len(feats.image_index)} image(s) decoded; need at least 2")
    if train_features is None:
        return feats, None
    train = load_features(train_features, with_ratios=False)
    a, b = feats.manifest["config"], train.manifest["config"]
    differ = [k for k in ("arch", "weights", "preprocessing", "feature_dim") if a.get(k) != b.get(k)]
    if differ:
        raise ValueError(f"{train_features}: training features were extracted with other settings "
                         f"({', '.join(differ)}) than {features_dir}; "
                         "the classifier must see the same kind of features")
    return feats, train


def _usable_features(feats: LoadedFeatures, features_dir) -> np.ndarray:
    """Mask of the non-constant features (a constant one has no direction to find); an error if none is."""
    F = feats.original
    features_ok = F.std(axis=0) > 0
    if not np.isfinite(F).all() or not features_ok.any():
        from vision.forward import backbone_name

        b = feats.manifest.get("backbone") or {}
        raise ValueError(f"{features_dir}: every feature of backbone "
                         f"{backbone_name(b.get('arch', '?'), b.get('weights'))} "
                         "is constant or non-finite; nothing to score (are its weights broken?)")
    return features_ok


def _comparisons(cats, causal, anticausal, rho, ratios, marginals, cmp_usable, in_test, cfg) -> dict:
    """Top-anticausal vs top-causal features by NCC, and the same with the correlation controls."""
    object_ratio, context_ratio = ratios
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
    results["marginal_matched"] = marginal_matched(
        cats, results["ncc"]["per_category"], np.column_stack(list(marginals.values())),
        object_ratio, context_ratio, in_test)
    return results


def _warnings(feats: LoadedFeatures, cmp_usable: np.ndarray, left_out: dict, cfg: AnalysisConfig) -> list[str]:
    warnings = list(feats.manifest.get("backbone", {}).get("notes", []))
    warn_random_weights(warnings)
    if not cmp_usable.any():
        warnings.append("no category has a class variable that varies over the analysed images, so there are no "
                        "NCC scores and no sign tests; only the object/context ratios are reported")
    if left_out:
        warnings.append(f"{len(left_out)} of {int(cmp_usable.sum())} scored categories are left out of the overall "
                        f"tests because their class variable is weak (ROC AUC < {cfg.min_auc:g} or fewer than "
                        f"{cfg.min_positives} positives): {', '.join(left_out)}")
    return warnings


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
                          scorer: Scorer, *, ratios: tuple[np.ndarray, np.ndarray],
                          **common: Any) -> tuple[dict | None, dict | None]:
    """The shuffled-class-variable and the refitted-classifier permutation controls, on the same images."""
    common.update(categories=feats.dataset.categories, object_ratio=ratios[0], context_ratio=ratios[1],
                  top_percent=cfg.top_percent, max_points_per_call=cfg.ncc_max_points_per_call)
    F = feats.original
    rows = subsample_rows(len(F), cfg.permutation_max_images, cfg.seed)
    meta = {"subsampled": bool(len(rows) < len(F)), "seed": cfg.seed}
    shuffled = refitted = None
    if cfg.permutations > 0:
        shuffled = permutation_control(F[rows], shuffled_class_replicates(C[rows], cfg.permutations, cfg.seed),
                                       scorer, **common) | meta
    if cfg.label_permutations > 0 and common["in_test"].any():  # refits are costly: only for a test to make
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
    elif cfg.label_permutations > 0:
        refitted = {"n_permutations": cfg.label_permutations, "n_categories": 0,
                    "skipped": "no category in the overall test"} | meta
    return shuffled, refitted


def _nanmean(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None

__all__ = ["AnalysisConfig", "LoadedFeatures", "REFIT_NULL", "SHUFFLE_NULL", "analyze", "class_variable",
           "load_features", "ncc_model_identity", "overall_tests", "verdict"]
