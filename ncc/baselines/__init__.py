"""Classic cause-effect baselines shown beside NCC by `ncc evaluate` and the benchmarks.

Every method maps a pair ``(n, 2)`` (first column x, second y) to a score in [0, 1], the
confidence that x causes y, like :func:`ncc.score_pairs`. Each score is a logistic squash
of the method's own decision statistic, so 0.5 means "cannot tell" and the AUC uses the
statistic's ranking. numpy/scipy only.

* :class:`IGCI` -- Information-Geometric Causal Inference with the uniform reference measure
  (each variable rescaled to [0, 1]); slope or entropy estimator.
  Daniušis et al., "Inferring deterministic causal relations", UAI 2010; Janzing et al.,
  "Information-geometric approach to inferring causal directions", AIJ 182, 2012; estimators
  as in Mooij et al., JMLR 17(32), 2016, §4.
* :class:`ANMHSIC` -- additive-noise model: kernel ridge regression both ways, then an HSIC
  independence test between input and residuals (gamma approximation); the direction whose
  residuals look more independent wins. Hoyer et al., NIPS 2008; Gretton et al., "A kernel
  statistical test of independence", NIPS 2008; Mooij et al. 2016.
* :class:`RECI` -- Regression Error based Causal Inference: on [0, 1]-rescaled data the causal
  regression has the smaller mean squared error. Blöbaum et al., AISTATS 2018.
* :class:`CDS` -- Conditional Distribution Similarity: the conditional distributions of the effect
  given the (discretised) cause vary less across cause values than the reverse ones. Fonollosa,
  "Conditional distribution variability measures for causality detection", in Guyon et al. (eds.),
  Cause Effect Pairs in Machine Learning, Springer 2019 (arXiv:1601.06680, 2016).
* :class:`QCCD` -- bivariate Quantile Causal Discovery with a nonparametric copula: the causal
  direction has the shorter quantile-regression code length. Tagasovska, Chavez-Demoulin and
  Vatter, "Distinguishing cause from effect using quantiles: bivariate quantile causal
  discovery", ICML 2020.

One module per method family: ``base`` (the shared interface), ``igci``, ``anm``, ``reci``,
``cds``, ``qccd``; every name is importable from ``ncc.baselines`` as before.
"""
from __future__ import annotations

from ncc.baselines.anm import (
    ANMHSIC,
    _median_sq_dist,
    _rbf_gram,
    _sq_dists,
    _subsampled_krr_residuals,
    hsic_gamma_logpvalue,
    kernel_ridge_residuals,
)
from ncc.baselines.base import PairBaseline, _check_pair, _standardize, rescale01
from ncc.baselines.cds import CDS, conditional_distribution_variability, discretize
from ncc.baselines.igci import IGCI, igci_slope, spacing_entropy
from ncc.baselines.qccd import QCCD, copula_conditional_quantiles, pinball_loss, pseudo_observations
from ncc.baselines.reci import RECI, _poly_mse

__all__ = [  # every name of the single module this package replaced
    "ANMHSIC", "_median_sq_dist", "_rbf_gram", "_sq_dists", "_subsampled_krr_residuals", "hsic_gamma_logpvalue",
    "kernel_ridge_residuals", "PairBaseline", "_check_pair", "_standardize", "rescale01", "CDS",
    "conditional_distribution_variability", "discretize", "IGCI", "igci_slope", "spacing_entropy", "QCCD",
    "copula_conditional_quantiles", "pinball_loss", "pseudo_observations", "RECI", "_poly_mse", "BASELINES",
    "make_baseline",
]

BASELINES = {"IGCI": IGCI, "ANM-HSIC": ANMHSIC, "RECI": RECI, "CDS": CDS, "QCCD": QCCD}


def make_baseline(name: str, random_state=0) -> PairBaseline:
    """A baseline by its display name (see :data:`BASELINES`)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    cls = BASELINES[name]
    return cls(random_state=random_state) if "random_state" in cls().get_params() else cls()
