"""Generator configuration: validation of every option, with one-line error messages.

The CLI shows these messages as they are, so each names the bad value and, for names,
lists the valid ones.  All raise :class:`ValueError`.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from synthetic.causes import CAUSES
from synthetic.mechanisms import MECHANISMS
from synthetic.noise import NOISES

KINDS = ("causal", "independent", "confounded")
MIX = "mix"


@dataclass(frozen=True)
class PairConfig:
    """Everything (besides n_pairs and the seed) that fixes the generated pairs."""

    # An int gives equal-size pairs; (low, high) draws sizes log-uniformly in [low, high],
    # because real pairs range over orders of magnitude (about 50 to tens of thousands).
    n_points: int | tuple[int, int] = 1000
    mechanism: str = "spline"  # a family name, or "mix" (a family drawn per pair)
    mechanism_weights: tuple[float, ...] | None = None  # over MECHANISMS, for "mix"
    cause: str = "gmm"  # the paper's Gaussian mixture, another cause, or "mix"
    cause_weights: tuple[float, ...] | None = None  # over CAUSES, for "mix"
    noise: str | None = None  # None: Gaussian for "spline" (paper), a random shape otherwise
    noise_weights: tuple[float, ...] | None = None  # over NOISES, for "mix" (real noise has outliers)
    kinds: tuple[str, ...] = ("causal",)  # add "independent"/"confounded" for a no-link class
    kind_weights: tuple[float, ...] | None = None  # over `kinds`; None: equal
    discretize_prob: float = 0.0  # per pair: the cause is integer-valued with many ties
    quantize_prob: float = 0.0  # per variable: observed values rounded (either x or y)
    # per causal pair: a hidden common cause also drives x and y (Mooij's SIM-c); label kept
    confounder_prob: float = 0.0
    # per pair: gross errors on a few effect values (real measurements have outliers, and they
    # sit on the effect side of the noise: the cause's own outliers pass through the mechanism)
    outlier_prob: float = 0.0

    @property
    def ragged(self) -> bool:
        return not isinstance(self.n_points, int)

    def to_dict(self) -> dict:
        """JSON-ready dict; weights are written back as {name: weight}."""
        d = asdict(self)
        d["n_points"] = list(self.n_points) if self.ragged else self.n_points
        d["kinds"] = list(self.kinds)
        for key, names in (("mechanism_weights", MECHANISMS), ("cause_weights", CAUSES),
                           ("noise_weights", NOISES), ("kind_weights", self.kinds)):
            if d[key] is not None:
                d[key] = dict(zip(names, d[key]))
        return d


def _names(valid) -> str:
    return ", ".join(valid)


def check_n_pairs(n_pairs) -> int:
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, numbers.Integral):
        raise ValueError(f"n_pairs must be an integer, got {n_pairs!r}")
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
    return int(n_pairs)


def _check_size(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if value < 2:
        raise ValueError(f"{what} must be >= 2, got {value}")
    return int(value)


def parse_n_points(value) -> int | tuple[int, int]:
    """An int >= 2, a (low, high) pair, or the CLI's text "M" / "LOW:HIGH"."""
    if isinstance(value, str):
        text = value.strip()
        parts = text.split(":")
        if len(parts) > 2 or not all(p.strip().lstrip("+-").isdigit() for p in parts):
            raise ValueError(f"malformed n_points {value!r}: expected M or LOW:HIGH "
                             "with integers 2 <= LOW <= HIGH")
        value = int(parts[0]) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"malformed n_points range {value!r}: expected (low, high)")
        low = _check_size(value[0], "n_points")
        high = _check_size(value[1], "n_points")
        if low > high:
            raise ValueError(f"malformed n_points range {low}:{high}: low must be <= high")
        return (low, high)
    return _check_size(value, "n_points")


def _check_name(value, valid, what: str) -> str:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {_names(valid)}")
    return value


def _check_weights(weights, valid, what: str) -> tuple[float, ...]:
    if not isinstance(weights, dict):
        raise ValueError(f"{what} must be a dict {{name: weight}}, got {weights!r}")
    for name in weights:
        if name not in valid:
            raise ValueError(f"unknown name {name!r} in {what}; valid: {_names(valid)}")
    out = []
    for name in valid:  # canonical order: never depends on the dict's order
        w = weights.get(name, 0.0)
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise ValueError(f"{what}[{name!r}] must be a finite number >= 0, got {w!r}")
        out.append(float(w))
    if sum(out) <= 0:
        raise ValueError(f"{what} must have a positive total")
    return tuple(out)


def parse_kinds(kinds) -> tuple[str, ...]:
    """"causal", "causal,independent" or a sequence of names; duplicates are dropped."""
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    out = []
    for item in items:
        name = item.strip() if isinstance(item, str) else item
        _check_name(name, KINDS, "kind")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"kinds is empty; valid: {_names(KINDS)}")
    return tuple(out)


def _check_prob(p, what: str) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} must be a probability in [0, 1], got {p!r}")
    return float(p)


def make_config(*, n_points=1000, mechanism="spline", mechanism_weights=None, cause="gmm",
                cause_weights=None, noise=None, noise_weights=None, kinds="causal", kind_weights=None,
                discretize_prob=0.0, quantize_prob=0.0, confounder_prob=0.0, outlier_prob=0.0) -> PairConfig:
    """Validate and normalise options into a :class:`PairConfig` (raises ValueError)."""
    _check_name(mechanism, (*MECHANISMS, MIX), "mechanism")
    _check_name(cause, (*CAUSES, MIX), "cause")
    if noise is not None:
        _check_name(noise, (*NOISES, MIX), "noise")
    kinds = parse_kinds(kinds)
    if mechanism_weights is not None:
        if mechanism != MIX:
            raise ValueError("mechanism_weights needs mechanism='mix'")
        mechanism_weights = _check_weights(mechanism_weights, MECHANISMS, "mechanism_weights")
    if cause_weights is not None:
        if cause != MIX:
            raise ValueError("cause_weights needs cause='mix'")
        cause_weights = _check_weights(cause_weights, CAUSES, "cause_weights")
    if noise_weights is not None:
        if noise != MIX:
            raise ValueError("noise_weights needs noise='mix'")
        noise_weights = _check_weights(noise_weights, NOISES, "noise_weights")
    if kind_weights is not None:
        kind_weights = _check_weights(kind_weights, kinds, "kind_weights")
    return PairConfig(
        n_points=parse_n_points(n_points), mechanism=mechanism,
        mechanism_weights=mechanism_weights, cause=cause, cause_weights=cause_weights,
        noise=noise, noise_weights=noise_weights, kinds=kinds, kind_weights=kind_weights,
        discretize_prob=_check_prob(discretize_prob, "discretize_prob"),
        quantize_prob=_check_prob(quantize_prob, "quantize_prob"),
        confounder_prob=_check_prob(confounder_prob, "confounder_prob"),
        outlier_prob=_check_prob(outlier_prob, "outlier_prob"),
    )


def config_from_dict(d: dict) -> PairConfig:
    """Inverse of :meth:`PairConfig.to_dict` (used when reading a saved file)."""
    d = dict(d)
    if isinstance(d.get("n_points"), list):
        d["n_points"] = tuple(d["n_points"])
    return make_config(**d)


def probabilities(weights: tuple[float, ...] | None, n: int) -> np.ndarray:
    """Normalised probabilities; None means equal."""
    p = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    return p / p.sum()
