"""The Neural Causation Coefficient network (Lopez-Paz et al., CVPR 2017).

    NCC({(x_j, y_j)}) = ψ( mean_j φ(x_j, y_j) )

φ embeds one point, the mean over the points makes the result a set function (independent of
point order and of the number of points), and ψ turns the mean embedding into a logit f(x, y).
The causal score is the antisymmetrised probability

    s(x, y) = ½ (σ(f(x, y)) + 1 − σ(f(y, x)))  =  P(x → y),   so that s(y, x) = 1 − s(x, y) exactly.

Layout of the tensors, shared by training and scoring:

* A batch of pairs is either *padded*, ``points`` of shape (B, N, 2) plus a boolean ``mask`` (B, N)
  marking the real points, or *packed*, the real points of all pairs concatenated into (T, 2) plus
  ``lengths`` (B,). The network only ever sees packed points, so padding cannot leak into φ, into
  the batch-norm statistics or into the means.
* Both orientations are computed in one pass: every point (x, y) is followed by its mirror (y, x),
  giving a (2T, 2) input whose rows alternate orientation. Batch norm therefore always sees both
  orientations, and after φ a (2T, C) activation viewed as (T, 2C) pools both at once.

Options beyond the paper (:class:`NCCConfig`): ``statistics`` (the hybrid NCC: ψ also reads the
classic statistics of :mod:`ncc.statistics` for both orientations), ``copula`` (φ also reads each
point's mid-ranks) and ``rounds=2`` (a second φ sees each point beside its pair's mean). All keep
the set property and the exact antisymmetry.

Every variable is standardised inside the network's entry point (:func:`standardize`), in float64,
so training and scoring go through the same function. A constant variable has no direction: its
score is exactly 0.5 and it is flagged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Optional, Sequence

import torch
from torch import nn

from ncc._params import ParameterError, finite_float
from ncc.blocks import DenseBlock, FastDropout, run_blocks
from ncc.statistics import N_STATISTICS, midranks, pair_statistics

_MIRROR = [1, 0, 3, 2]  # (x, y, rank x, rank y) → (y, x, rank y, rank x)

__all__ = [
    "NCCConfig",
    "NCC",
    "NCCEnsemble",
    "DenseBlock",
    "FastDropout",
    "standardize",
    "pack",
    "segment_mean",
    "scores_from_logits",
]


@dataclass
class NCCConfig:
    """Architecture of one NCC network, plus its scoring defaults. Paper values are the defaults."""

    embed_dim: int = 100  # φ width: 100 units per hidden layer in the paper
    embed_layers: int = 2  # φ depth: the paper uses two hidden layers
    classifier_dim: int = 100  # ψ width, as φ
    classifier_layers: int = 2  # ψ depth, as φ
    dropout: float = 0.25  # after every hidden ReLU (paper: 25%)
    batchnorm: bool = True  # before every hidden ReLU (paper); statistics over real points only
    max_points: int = 5000  # scoring: larger pairs are scored as the mean over random subsamples
    n_subsamples: int = 8  # scoring: how many subsamples of max_points points for a large pair
    # Hybrid NCC: ψ also reads classic statistics of both orientations (ncc.statistics), cues a
    # single mean embedding of standardised points finds hard to learn (slopes, residual spread).
    statistics: bool = False
    # 2: a second φ sees each point beside its pair's first-round mean, then pools again (a
    # "second look" at the points, for cues such as residual spread); 1 is the paper's network.
    rounds: int = 1
    # φ also reads each point's mid-ranks (copula coordinates, as in bQCD): heavy tails and
    # outliers squeeze standardised points together, their ranks stay evenly spread.
    copula: bool = False

    def __post_init__(self) -> None:
        def bad(name: str, rule: str) -> ParameterError:
            return ParameterError(name, getattr(self, name), rule, prefix="NCCConfig.")

        for name in ("embed_dim", "embed_layers", "classifier_dim", "max_points", "n_subsamples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(name, "must be a positive integer")
        if isinstance(self.classifier_layers, bool) or not isinstance(self.classifier_layers, int) \
                or self.classifier_layers < 0:
            raise bad("classifier_layers", "must be an integer >= 0")
        dropout = finite_float(self.dropout)
        if dropout is None or not 0.0 <= dropout < 1.0:
            raise bad("dropout", "must be in [0, 1)")
        if self.max_points < 2:
            raise bad("max_points", "must be at least 2")
        if isinstance(self.rounds, bool) or self.rounds not in (1, 2):
            raise bad("rounds", "must be 1 or 2")
        if not isinstance(self.copula, bool):
            raise bad("copula", "must be true or false")
        if not isinstance(self.statistics, bool):
            raise bad("statistics", "must be true or false")

    @property
    def classifier_inputs(self) -> int:
        """Width of ψ's input: the mean embedding, plus both orientations' statistics if hybrid."""
        return self.embed_dim + (2 * N_STATISTICS if self.statistics else 0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "NCCConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown NCCConfig fields: {sorted(unknown)}")
        return cls(**values)


# ----------------------------------------------------------------------------------------------
# Batching helpers: standardisation, packing and pooling over variable-size pairs.
# ----------------------------------------------------------------------------------------------

def pack(points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded (B, N, 2) + mask (B, N) → packed real points (T, 2) and lengths (B,)."""
    if points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(f"expected points of shape (B, N, 2), got {tuple(points.shape)}")
    batch, n_max = points.shape[:2]
    if mask is None:
        return points.reshape(-1, 2), torch.full((batch,), n_max, dtype=torch.long, device=points.device)
    if mask.shape != points.shape[:2]:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match points {tuple(points.shape)}")
    mask = mask.to(torch.bool)
    lengths = mask.sum(1)
    if bool((lengths == n_max).all()):
        return points.reshape(-1, 2), lengths
    return points[mask], lengths


def _all_equal(lengths: torch.Tensor) -> bool:
    return bool((lengths == lengths[0]).all())


def segment_mean(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean of consecutive row segments: values (T, C) with segment lengths (B,) → (B, C)."""
    if _all_equal(lengths):
        return values.view(lengths.numel(), -1, values.shape[-1]).mean(1)
    return torch.segment_reduce(values, "mean", lengths=lengths, axis=0)


def _segment_extreme(values: torch.Tensor, lengths: torch.Tensor, reduce: str) -> torch.Tensor:
    if _all_equal(lengths):
        view = values.view(lengths.numel(), -1, values.shape[-1])
        return view.amax(1) if reduce == "max" else view.amin(1)
    return torch.segment_reduce(values, reduce, lengths=lengths, axis=0)


def _expand(per_pair: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, C) → (T, C): repeat each pair's row for each of its points."""
    if _all_equal(lengths):
        n = int(lengths[0])
        return per_pair.unsqueeze(1).expand(-1, n, -1).reshape(-1, per_pair.shape[-1])
    return torch.repeat_interleave(per_pair, lengths, dim=0)


def standardize(points: torch.Tensor, lengths: torch.Tensor,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardise each variable of each packed pair to mean 0, variance 1 (computed in float64).

    Returns the standardised points in ``dtype`` and a boolean (B,) flag: True where a variable is
    constant. Such a variable is mapped to zeros (no NaN) and the caller scores the pair 0.5.
    Constant means max == min: a float64 variance test would let rounding noise through.
    Each variable is first divided by its largest magnitude, so no finite input can overflow or
    underflow when squared (values of 1e300 or 1e-200 standardise like values of 1).
    """
    if bool((lengths < 1).any()):
        raise ValueError("every pair needs at least one point")
    values = points.to(torch.float64)
    high, low = _segment_extreme(values, lengths, "max"), _segment_extreme(values, lengths, "min")
    constant_var = high == low
    magnitude = torch.maximum(high.abs(), low.abs())
    magnitude = torch.where(constant_var | (magnitude == 0), torch.ones_like(magnitude), magnitude)
    values = values / _expand(magnitude, lengths)  # now in [-1, 1]
    mean = segment_mean(values, lengths)
    centred = values - _expand(mean, lengths)
    std = segment_mean(centred * centred, lengths).sqrt()
    std = torch.where(constant_var | (std == 0), torch.ones_like(std), std)
    scaled = centred / _expand(std, lengths)
    scaled = torch.where(_expand(constant_var, lengths), torch.zeros_like(scaled), scaled)
    return scaled.to(dtype), constant_var.any(1)


def scores_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """(B, 2) logits [f(x, y), f(y, x)] → s(x, y) = ½ (σ(f(x, y)) + 1 − σ(f(y, x))), in float64."""
    probs = torch.sigmoid(logits.to(torch.float64))
    return 0.5 * (probs[:, 0] + 1.0 - probs[:, 1])


# ----------------------------------------------------------------------------------------------
# The network.
# ----------------------------------------------------------------------------------------------

class NCC(nn.Module):
    """One NCC network. ``forward(points, mask)`` returns the logits [f(x, y), f(y, x)] per pair."""

    #: φ is evaluated on groups of whole pairs of at most this many points in eval mode, so that
    #: its activations stay in the CPU cache (several times faster than one huge matrix).
    eval_block_points = 2048

    def __init__(self, config: Optional[NCCConfig] = None) -> None:
        super().__init__()
        self.config = config if config is not None else NCCConfig()
        c = self.config
        self.phi = nn.Sequential(*[
            DenseBlock((4 if c.copula else 2) if i == 0 else c.embed_dim, c.embed_dim, c.dropout, c.batchnorm)
            for i in range(c.embed_layers)
        ])
        # Round 2 (rounds=2): φ₂ reads [φ(point), mean φ of its pair in the same orientation].
        self.phi2 = nn.Sequential(*[
            DenseBlock(2 * c.embed_dim if i == 0 else c.embed_dim, c.embed_dim, c.dropout, c.batchnorm)
            for i in range(c.embed_layers)
        ]) if c.rounds == 2 else None
        self.psi = nn.Sequential(*[
            DenseBlock(c.classifier_inputs if i == 0 else c.classifier_dim, c.classifier_dim, c.dropout, c.batchnorm)
            for i in range(c.classifier_layers)
        ])
        self.head = nn.Linear(c.classifier_dim if c.classifier_layers else c.classifier_inputs, 1)

    # -- building blocks -----------------------------------------------------------------------
    def prepare(self, points: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """φ's per-point inputs ((T, 2), or (T, 4) with the mid-ranks if ``copula``) and the pair
        statistics ((B, 2, S) if ``statistics``, else None). Functions of the points alone, so an
        ensemble computes them once for all its members."""
        inputs = torch.cat([points, midranks(points, lengths)], 1) if self.config.copula else points
        statistics = pair_statistics(points, lengths) if self.config.statistics else None
        return inputs, statistics

    def embed(self, points: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean φ embedding of both orientations: φ's packed inputs (:meth:`prepare`) → (B, 2, C)."""
        if self.training or not all(b.uses_fused(points) for b in self.phi):
            return self._embed(points, lengths)
        # Eval: fold batch norm once, then run φ on whole pairs in cache-sized groups (in eval no
        # statistics are shared between points, so grouping cannot change the result).
        folded = ([block.folded() for block in self.phi],
                  [block.folded() for block in self.phi2] if self.phi2 is not None else None)
        if points.shape[0] <= self.eval_block_points:
            return self._embed(points, lengths, folded)
        if _all_equal(lengths):  # the common case: views, no Python loop over pairs
            n = int(lengths[0])
            per_block = max(1, self.eval_block_points // n)
            blocks = zip(points.split(per_block * n), lengths.split(per_block))
            return torch.cat([self._embed(p, l, folded) for p, l in blocks])
        ends = torch.cumsum(lengths, 0).tolist()
        out, start_pair, start_point = [], 0, 0
        for pair, end in enumerate(ends):
            last = pair == len(ends) - 1
            if last or ends[pair + 1] - start_point > self.eval_block_points:
                out.append(self._embed(points[start_point:end], lengths[start_pair:pair + 1], folded))
                start_pair, start_point = pair + 1, end
        return torch.cat(out)

    def _embed(self, points: torch.Tensor, lengths: torch.Tensor, folded=None) -> torch.Tensor:
        """``folded``: None in training, else (φ's folded layers, φ₂'s or None) from :meth:`embed`."""
        # Rows alternate (x, y), (y, x), so batch norm sees both orientations in equal measure.
        mirror = points[:, _MIRROR] if points.shape[1] == 4 else points.flip(-1)  # (y, x[, rank y, rank x])
        h = torch.stack((points, mirror), dim=1).reshape(-1, points.shape[1])
        first, second = folded if folded is not None else (None, None)
        h = run_blocks(self.phi, h, first)
        pooled = segment_mean(h.view(points.shape[0], -1), lengths)  # (B, 2C)
        if self.phi2 is not None:
            # Each row gets its own orientation's mean: (T, 2C) viewed as (2T, C) keeps the alternation.
            context = _expand(pooled, lengths).reshape(h.shape)
            h = run_blocks(self.phi2, torch.cat([h, context], 1), second)
            pooled = segment_mean(h.view(points.shape[0], -1), lengths)
        return pooled.view(lengths.numel(), 2, -1)

    def classify(self, embedding: torch.Tensor) -> torch.Tensor:
        """ψ: (B, 2, C) mean embeddings → (B, 2) logits [f(x, y), f(y, x)]."""
        h = self.psi(embedding.reshape(-1, embedding.shape[-1]))
        return self.head(h).view(-1, 2)

    def packed_logits(self, points: torch.Tensor, lengths: torch.Tensor, prepared=None) -> torch.Tensor:
        """Logits of already standardised packed points (``prepared``: :meth:`prepare`'s output).

        A hybrid network appends to orientation o's embedding the statistics of o, then those of
        the other orientation, so f(y, x) sees exactly the mirror of what f(x, y) sees.
        """
        inputs, statistics = prepared if prepared is not None else self.prepare(points, lengths)
        embedding = self.embed(inputs, lengths)
        if statistics is not None:
            statistics = statistics.to(embedding.dtype)
            embedding = torch.cat([embedding, statistics, statistics.flip(1)], -1)
        return self.classify(embedding)

    # -- public entry points ---------------------------------------------------------------------
    def forward(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Padded raw pairs (B, N, 2) [+ mask (B, N)] → logits (B, 2) = [f(x, y), f(y, x)]."""
        packed, lengths = pack(points, mask)
        standardised, _ = standardize(packed, lengths, self.head.weight.dtype)
        return self.packed_logits(standardised, lengths)

    def score(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """P(x → y) per pair (float64, exactly antisymmetric) and the constant-variable flags."""
        packed, lengths = pack(points, mask)
        standardised, constant = standardize(packed, lengths, self.head.weight.dtype)
        return _constant_half(self.packed_scores(standardised, lengths), constant), constant

    def packed_scores(self, points: torch.Tensor, lengths: torch.Tensor, prepared=None) -> torch.Tensor:
        return scores_from_logits(self.packed_logits(points, lengths, prepared))

    def set_fused(self, fused: bool) -> "NCC":
        """Choose the fused CPU passes (default) or the plain reference layers, e.g. to check one against the other."""
        for module in self.modules():
            if isinstance(module, DenseBlock):
                module.fused = fused
        return self

    @property
    def members(self) -> Sequence["NCC"]:
        """A single network is an ensemble of one (lets callers treat both alike)."""
        return [self]


class MemberNetworks(nn.Module):
    """One or more NCC networks of one architecture (``members``, sharing ``config``): the base of
    :class:`NCCEnsemble` and :class:`ncc.link.LinkModel`. Subclasses name themselves in the errors."""

    _needs_one = "needs at least one network"
    _must_share = "networks must share one NCCConfig"

    def __init__(self, members: Sequence[NCC]) -> None:
        super().__init__()
        members = list(members)
        if not members:
            raise ValueError(self._needs_one)
        config = members[0].config
        if any(m.config != config for m in members):
            raise ValueError(self._must_share)
        self.config = config
        self.members = nn.ModuleList(members)


class NCCEnsemble(MemberNetworks):
    """Several NCC networks of one architecture; the score is the mean of their scores."""

    _needs_one = "an ensemble needs at least one member"
    _must_share = "all ensemble members must share one NCCConfig"

    def forward(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits of every member: (K, B, 2)."""
        packed, lengths = pack(points, mask)
        standardised, _ = standardize(packed, lengths, self.members[0].head.weight.dtype)
        prepared = self.members[0].prepare(standardised, lengths)  # members share one config
        return torch.stack([m.packed_logits(standardised, lengths, prepared) for m in self.members])

    def packed_scores(self, points: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        prepared = self.members[0].prepare(points, lengths)  # ranks and statistics once for all members
        return torch.stack([m.packed_scores(points, lengths, prepared) for m in self.members]).mean(0)

    def score(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        packed, lengths = pack(points, mask)
        standardised, constant = standardize(packed, lengths, self.members[0].head.weight.dtype)
        return _constant_half(self.packed_scores(standardised, lengths), constant), constant


def _constant_half(scores: torch.Tensor, constant: torch.Tensor) -> torch.Tensor:
    return torch.where(constant, torch.full_like(scores, 0.5), scores)
