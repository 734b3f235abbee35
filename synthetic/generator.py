"""``make_pairs``: batches of synthetic cause-effect pairs.

Label encoding (``y``):

* ``1``  - column 0 causes column 1 (x -> y);
* ``0``  - column 1 causes column 0 (y -> x);
* ``-1`` - no causal link between the columns: an *independent* pair (x and y
  independent) or a *confounded* pair (x <- z -> y).  Only produced when ``kinds``
  asks for them.

How a pair is made:

1. A cause z is drawn (``cause``), standardised, and optionally discretised.
2. The effect is ``mechanism(z)`` (one family per pair, see :mod:`synthetic.mechanisms`).
3. By kind:
   - a causal pair is (z, effect);
   - an independent pair is (z, effect with its points shuffled), so both marginals
     look like those of a causal pair but the dependence is gone;
   - a confounded pair is (mechanism(z), mechanism'(z)): two effects of one hidden
     cause, same family, independent parameters.
4. With ``confounder_prob``, some causal pairs also get a hidden confounder c, as in
   Mooij et al.'s SIM-c: x = std(z + a g(c)), y = std(mechanism(x)) + b h(c), with g, h
   random splines and a, b ~ U[0.3, 1].  x still causes y, so the label is kept.
5. Both variables are standardised per pair.  The columns of a random half of the causal
   pairs (exactly half; the odd one out by a coin flip) are swapped, with the label 0.
   "No link" pairs are swapped with probability 1/2 and keep the label -1.
6. With ``outlier_prob``, a pair's effect gets gross errors: a fraction U[0.5%, 5%] of its
   points moves by ±(2 + 2 Exp(1)) · U[1, 2] sd (applied to the standardised effect before the
   columns are swapped, then standardised again).
7. Each output column is, with probability ``quantize_prob``, rounded to a coarse grid
   (and standardised again).

Reproducibility: the output is a function of ``(random_state, config, n_pairs)`` only.
One root seed is drawn from ``sklearn.utils.check_random_state(random_state)``; it seeds
a per-pair *plan* (family, kind, cause, noise shape, size, orientation of every pair) and
then one independent PCG64 stream per chunk (``SeedSequence(root, spawn_key=(1, i))``).
Chunk boundaries depend only on the pair sizes, so iterating chunk by chunk (the CLI,
with its progress bar) gives the same bytes as one ``make_pairs`` call.  No BLAS and no
threaded reduction is used, so the thread count never matters.  Streams are stable for a
given numpy version; numpy does not promise identical ``Generator`` streams across
versions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
from sklearn.utils import check_random_state

from synthetic._layout import DTYPE, DenseLayout, RaggedLayout, groups, standardise
from synthetic.causes import CAUSES, discretise, sample_causes
from synthetic.config import KINDS, MIX, PairConfig, check_n_pairs, make_config, probabilities
from synthetic.mechanisms import MECHANISM_FUNCTIONS, MECHANISMS
from synthetic.noise import NOISES
from synthetic.splines import random_splines

# Points per chunk: large enough to amortise numpy's per-call overhead, small enough for
# the working arrays to stay in cache.  Changing it changes the output for a given seed.
CHUNK_POINTS = 1 << 17

CAUSAL, INDEPENDENT, CONFOUNDED = (KINDS.index(k) for k in KINDS)
_SPLINE = MECHANISMS.index("spline")
_GAUSSIAN = NOISES.index("gaussian")


@dataclass
class Plan:
    """The discrete choices for each pair, drawn up front for all pairs at once."""

    family: np.ndarray  # index into MECHANISMS
    kind: np.ndarray  # index into KINDS
    cause: np.ndarray  # index into CAUSES
    noise: np.ndarray  # index into NOISES
    discrete: np.ndarray  # bool: the cause is discretised
    quantize: np.ndarray  # bool (n, 2): output column 0 / 1 is rounded
    hidden: np.ndarray  # bool: causal pair with an extra hidden confounder
    sizes: np.ndarray  # points per pair
    reversed: np.ndarray  # bool: columns swapped (effect first)
    outliers: np.ndarray  # bool: the effect gets gross errors on a few points

    def __getitem__(self, s) -> "Plan":  # a slice or an index array
        return Plan(**{k: v[s] for k, v in vars(self).items()})

    def labels(self) -> np.ndarray:
        return np.where(self.kind == CAUSAL, np.where(self.reversed, 0, 1), -1).astype(np.int64)

    def info(self) -> dict:
        """Per-pair metadata, as arrays (names as strings)."""
        return {
            "mechanism": np.asarray(MECHANISMS)[self.family],
            "kind": np.asarray(KINDS)[self.kind],
            "cause": np.asarray(CAUSES)[self.cause],
            "noise": np.asarray(NOISES)[self.noise],
            "discretized": self.discrete.copy(),
            "quantized": self.quantize.copy(),
            "hidden_confounder": self.hidden.copy(),
            "reversed": self.reversed.copy(),
            "outliers": self.outliers.copy(),
            "n_points": self.sizes.copy(),
        }


@dataclass
class Chunk:
    """Pairs ``start:stop`` of a run; X is an array (equal sizes) or a list of arrays."""

    start: int
    stop: int
    X: np.ndarray | list
    y: np.ndarray
    plan: Plan


def _choose(rng, fixed: str, names, weights, n: int) -> np.ndarray:
    draw = rng.choice(len(names), size=n, p=probabilities(weights, len(names)))
    if fixed == MIX:
        return draw.astype(np.int8)
    return np.full(n, names.index(fixed), dtype=np.int8)


def draw_plan(n_pairs: int, config: PairConfig, rng: np.random.Generator) -> Plan:
    """Every per-pair discrete choice.  Each array is drawn whatever the options, so
    changing one option leaves the other choices unchanged."""
    family = _choose(rng, config.mechanism, MECHANISMS, config.mechanism_weights, n_pairs)
    cause = _choose(rng, config.cause, CAUSES, config.cause_weights, n_pairs)
    if config.noise_weights is None:  # equal shapes: the original draw, so old seeds give old pairs
        noise_mix = rng.integers(0, len(NOISES), size=n_pairs).astype(np.int8)
    else:
        noise_p = probabilities(config.noise_weights, len(NOISES))
        noise_mix = rng.choice(len(NOISES), size=n_pairs, p=noise_p).astype(np.int8)
    if config.noise is None:  # the paper's spline keeps Gaussian noise
        noise = np.where(family == _SPLINE, _GAUSSIAN, noise_mix).astype(np.int8)
    elif config.noise == MIX:
        noise = noise_mix
    else:
        noise = np.full(n_pairs, NOISES.index(config.noise), dtype=np.int8)
    kind_pos = rng.choice(len(config.kinds), size=n_pairs,
                          p=probabilities(config.kind_weights, len(config.kinds)))
    kind = np.asarray([KINDS.index(k) for k in config.kinds], dtype=np.int8)[kind_pos]
    discrete = rng.random(n_pairs) < config.discretize_prob
    quantize = rng.random((n_pairs, 2)) < config.quantize_prob
    hidden = (rng.random(n_pairs) < config.confounder_prob) & (kind == CAUSAL)
    if config.ragged:
        low, high = config.n_points
        sizes = np.floor(np.exp(rng.uniform(np.log(low), np.log(high + 1), size=n_pairs)))
        sizes = np.clip(sizes, low, high).astype(np.int64)
    else:
        sizes = np.full(n_pairs, config.n_points, dtype=np.int64)
    # Exactly half of the causal pairs are reversed (the odd one out by a coin flip).
    reversed_ = rng.random(n_pairs) < 0.5
    causal = np.flatnonzero(kind == CAUSAL)
    n_rev = len(causal) // 2 + (len(causal) % 2 == 1 and rng.random() < 0.5)
    reversed_[causal] = False
    reversed_[rng.permutation(causal)[:n_rev]] = True
    # Drawn last, so that pairs made without outliers are those of earlier versions.
    outliers = rng.random(n_pairs) < config.outlier_prob if config.outlier_prob > 0 else np.zeros(n_pairs, bool)
    return Plan(family, kind, cause, noise, discrete, quantize, hidden, sizes, reversed_, outliers)


def chunk_bounds(sizes: np.ndarray) -> list[tuple[int, int]]:
    """Split pairs into consecutive chunks of about CHUNK_POINTS points."""
    window = (np.cumsum(sizes) - sizes) // CHUNK_POINTS
    cuts = np.flatnonzero(np.diff(window)) + 1
    edges = [0, *cuts.tolist(), len(sizes)]
    return list(zip(edges[:-1], edges[1:]))


def _root_entropy(random_state) -> list[int]:
    rs = check_random_state(random_state)
    return [int(v) for v in rs.randint(0, 2**31 - 1, size=4)]


def _stream(entropy: list[int], *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))


def _confound(z, layout, rows, cause_codes, rng):
    """Mix a hidden confounder c into the causes ``rows``: returns the new causes and the
    term b h(c) that the caller adds to their (standardised) effects."""
    sub = layout.subset(rows)
    c = sample_causes(sub, cause_codes, np.zeros(len(rows), dtype=bool), rng)
    g, h = (standardise(sub, f) for f in random_splines(c, sub, rng, 2))
    a, b = (sub.expand(rng.uniform(0.3, 1.0, size=len(rows))) for _ in range(2))
    z = z.copy()
    layout.put(z, rows, standardise(sub, layout.take(z, rows) + a * g))
    return z, b * h


def _family_pairs(mechanism, plan: Plan, sub, rng):
    """Both variables, before orientation, of pairs that share one mechanism family."""
    kind, noise = plan.kind, plan.noise
    z = sample_causes(sub, plan.cause, plan.discrete, rng)
    hidden = np.flatnonzero(plan.hidden)
    if len(hidden):
        z, confounding = _confound(z, sub, hidden, plan.cause[hidden], rng)
    effect = mechanism(z, sub, rng, noise)
    if len(hidden):
        hsub = sub.subset(hidden)
        sub.put(effect, hidden, standardise(hsub, sub.take(effect, hidden)) + confounding)
    first = z
    conf = np.flatnonzero(kind == CONFOUNDED)
    if len(conf):  # x <- z -> y: replace the cause by a second effect of it
        first = z.copy()
        sub.put(first, conf, mechanism(sub.take(z, conf), sub.subset(conf), rng, noise[conf]))
    indep = np.flatnonzero(kind == INDEPENDENT)
    if len(indep):  # x _||_ y: shuffling the effect's points breaks the link
        sub.put(effect, indep, sub.subset(indep).shuffle_within(sub.take(effect, indep), rng))
    return first, effect


def _with_outliers(y, layout, rng):
    """Gross errors on a fraction U[0.5%, 5%] of each pair's points: ±(2 + 2 Exp(1)) · U[1, 2] sd."""
    fraction = layout.expand(rng.uniform(0.005, 0.05, size=layout.n_pairs))
    scale = layout.expand(rng.uniform(1.0, 2.0, size=layout.n_pairs))
    hit = rng.random(layout.shape) < fraction
    size = (2.0 + 2.0 * rng.standard_exponential(layout.shape)) * scale
    sign = np.where(rng.random(layout.shape) < 0.5, -1.0, 1.0)
    return (y + np.where(hit, sign * size, 0.0)).astype(y.dtype)


def _make_chunk(plan: Plan, config: PairConfig, rng: np.random.Generator):
    n = len(plan.sizes)
    layout = RaggedLayout(plan.sizes) if config.ragged else DenseLayout(n, config.n_points)
    xs = ys = None
    for family, rows in groups(plan.family, len(MECHANISMS)):
        mechanism = MECHANISM_FUNCTIONS[MECHANISMS[family]]
        first, effect = _family_pairs(mechanism, plan[rows], layout.subset(rows), rng)
        if len(rows) == n:  # one family: no scatter copies
            xs, ys = first, effect
            break
        if xs is None:
            xs, ys = np.empty(layout.shape, dtype=DTYPE), np.empty(layout.shape, dtype=DTYPE)
        layout.put(xs, rows, first)
        layout.put(ys, rows, effect)
    xs, ys = standardise(layout, xs), standardise(layout, ys)
    hit = np.flatnonzero(plan.outliers)
    if len(hit):
        sub = layout.subset(hit)
        layout.put(ys, hit, standardise(sub, _with_outliers(layout.take(ys, hit), sub, rng)))
    swap = layout.expand(plan.reversed)
    out = np.empty((*layout.shape, 2), dtype=DTYPE)
    for col, values in enumerate((np.where(swap, ys, xs), np.where(swap, xs, ys))):
        rows = np.flatnonzero(plan.quantize[:, col])  # rounds the *output* column col
        if len(rows):
            sub = layout.subset(rows)
            layout.put(values, rows, standardise(sub, discretise(layout.take(values, rows), sub, rng)))
        out[..., col] = values
    return layout.split(out) if config.ragged else out


def iter_chunks(n_pairs: int, config: PairConfig, random_state=None) -> Iterator[Chunk]:
    """Generate the pairs chunk by chunk (same bytes as :func:`make_pairs`)."""
    n_pairs = check_n_pairs(n_pairs)
    entropy = _root_entropy(random_state)
    plan = draw_plan(n_pairs, config, _stream(entropy, 0))
    for i, (start, stop) in enumerate(chunk_bounds(plan.sizes)):
        part = plan[start:stop]
        X = _make_chunk(part, config, _stream(entropy, 1, i))
        yield Chunk(start, stop, X, part.labels(), part)


def generate(n_pairs: int, config: PairConfig, random_state=None, progress=None):
    """Run :func:`iter_chunks` to the end; ``progress(k)`` is called after each chunk of k
    pairs.  Returns ``(X, y, info)``."""
    n_pairs = check_n_pairs(n_pairs)
    X = [] if config.ragged else np.empty((n_pairs, config.n_points, 2), dtype=np.float32)
    y = np.empty(n_pairs, dtype=np.int64)
    plans = []
    for chunk in iter_chunks(n_pairs, config, random_state):
        if config.ragged:
            X.extend(chunk.X)
        else:
            X[chunk.start:chunk.stop] = chunk.X
        y[chunk.start:chunk.stop] = chunk.y
        plans.append(chunk.plan)
        if progress is not None:
            progress(chunk.stop - chunk.start)
    info = {k: np.concatenate([p.info()[k] for p in plans]) for k in plans[0].info()}
    return X, y, info


def make_pairs(n_pairs, *, n_points=1000, mechanism="spline", random_state=None, cause="gmm",
               noise=None, kinds="causal", mechanism_weights=None, cause_weights=None,
               noise_weights=None, kind_weights=None, discretize_prob=0.0, quantize_prob=0.0,
               confounder_prob=0.0, outlier_prob=0.0, return_info=False):
    """Draw ``n_pairs`` synthetic cause-effect pairs.

    Parameters
    ----------
    n_pairs : int >= 1
    n_points : int >= 2 or (low, high)
        Points per pair.  A range draws each pair's size log-uniformly in [low, high]
        (inclusive) and returns X as a list.
    mechanism : str
        One of ``synthetic.MECHANISMS`` (default ``"spline"``, the paper's recipe) or
        ``"mix"``: a family drawn per pair with probabilities ``mechanism_weights``
        ({name: weight}, missing names weigh 0; default equal).
    random_state : None, int or numpy.random.RandomState
        Through ``sklearn.utils.check_random_state``; an int makes the output
        byte-identical from run to run.
    cause : str
        One of ``synthetic.CAUSES`` (default ``"gmm"``, the paper's) or ``"mix"``
        (with ``cause_weights``, default equal).
    noise : str or None
        Noise shape, one of ``synthetic.NOISES`` or ``"mix"``.  None: Gaussian for the
        spline family (paper) and a shape drawn per pair for the others.  With ``"mix"``,
        ``noise_weights`` ({name: weight}, default equal) sets the shapes' proportions.
    kinds : str or sequence of str
        Which pairs to make, among ``"causal"``, ``"independent"``, ``"confounded"``
        (a list or a comma-separated string); ``kind_weights`` ({kind: weight}, default
        equal) sets the proportions.
    discretize_prob : float
        Probability per pair that the cause is discretised (integer values, many ties).
    quantize_prob : float
        Probability per observed variable (x or y, independently) that it is rounded to a
        coarse grid; unlike ``discretize_prob`` it also hits effects, so "discrete" does not
        give the cause away.
    confounder_prob : float
        Probability per causal pair of an extra hidden confounder of x and y (the pair
        stays causal and keeps its label; see the module docstring).
    outlier_prob : float
        Probability per pair that its effect gets gross errors on a few points (module
        docstring, step 6).
    return_info : bool
        Also return a dict of per-pair arrays: mechanism, kind, cause, noise (names),
        discretized, quantized (n, 2), hidden_confounder, reversed, outliers, n_points.

    Returns
    -------
    X : float32 array (n_pairs, n_points, 2), or list of (n_i, 2) float32 arrays
        Each column standardised per pair (mean 0, sd 1).
    y : int64 array (n_pairs,)
        1: column 0 causes column 1; 0: column 1 causes column 0; -1: no causal link
        (independent or confounded).  Causal pairs are exactly half reversed (n even).
    info : dict, only with ``return_info=True``
    """
    config = make_config(n_points=n_points, mechanism=mechanism,
                         mechanism_weights=mechanism_weights, cause=cause,
                         cause_weights=cause_weights, noise=noise, noise_weights=noise_weights, kinds=kinds,
                         kind_weights=kind_weights, discretize_prob=discretize_prob,
                         quantize_prob=quantize_prob, confounder_prob=confounder_prob,
                         outlier_prob=outlier_prob)
    X, y, info = generate(n_pairs, config, random_state)
    return (X, y, info) if return_info else (X, y)
