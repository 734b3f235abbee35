"""Classic cause-effect statistics of a pair, batched over packed pairs, for the hybrid NCC.

The hybrid network (``NCCConfig.statistics=True``) feeds ψ, beside the mean embedding, the
vector of statistics below computed in both orientations. Each statistic is a function of the
sample alone, so the model stays a set function of the points; ψ learns on synthetic pairs when
to trust which cue. For orientation "a causes b" (a, b each standardised to mean 0, variance 1):

====  =====================  =====================================================================
 #    name                   definition (reference)
====  =====================  =====================================================================
 0    ``igci_slope``         mean log|Δb/Δa| over consecutive points sorted by a, on [0, 1]-rescaled
                             data, skipping Δa = 0 or Δb = 0: IGCI's slope estimator of C_{a→b}
                             (Daniušis et al., UAI 2010; Mooij et al., JMLR 2016, §4.3)
 1    ``entropy``            m-spacing (Vasicek) entropy of a on [0, 1], m = ⌈√n / 2⌉, gaps floored at
                             1/(10 n): IGCI's entropy estimator uses H(a) − H(b) (Kraskov et al. 2004)
 2    ``log_range``          log(range(a) / sd(a)): heavy tails and outliers
 3    ``skewness``           E[a³]: a skewed marginal
 4    ``log_kurtosis``       log E[a⁴]
 5    ``tie_fraction``       1 − (distinct values)/n: discretised variables
 6    ``reci_log_mse``       log MSE of the cubic least-squares fit of b on a, both on [0, 1]:
                             RECI (Blöbaum et al., AISTATS 2018)
 7    ``log_resid_var``      log mean r², r = b − (running mean of b over the ±h nearest points in a),
                             h = ⌈0.05 n⌉ + 1: the unexplained variance of a smooth regression
 8    ``resid_skewness``     E[r³]/E[r²]^{3/2}: non-Gaussian residuals (LiNGAM-like cue)
 9    ``resid_log_kurtosis`` log(E[r⁴]/E[r²]²)
10    ``heteroscedasticity`` sd/mean of the running mean of r² (same window): conditional spread
                             that changes with a (location-scale models; QCCD's cue)
11    ``resid_hsic``         n·HSIC(a, r) with an explicit feature map (cosine and sine at 4 fixed
                             frequencies, 8 features per variable, so no random numbers): residual
                             independence, the ANM criterion (Hoyer et al., NIPS 2008), at O(n) cost
12    ``quantile_loss``      log of the mean pinball loss, τ ∈ {0.1, 0.25, 0.5, 0.75, 0.9}, of rank(b)'s
                             conditional quantiles in k = ⌊n^{1/3}⌉ equal-count bins of a, on the
                             copula (rank) scale: the cause predicts the effect's quantiles better
                             (QCCD, Tagasovska et al., ICML 2020, with a binned quantile regression)
13    ``log_n``              log n (the same in both orientations: tells ψ how far to trust the rest)
====  =====================  =====================================================================

All statistics are computed in float64 with O(n log n) work (a few stable sorts per orientation), with no
Python loop over pairs, and are squashed by sign(s)·log(1 + |s|) and clipped, so that ψ gets inputs
of order one even for degenerate pairs (a constant variable gives finite values; its pair is
scored 0.5 anyway).
"""
from __future__ import annotations

import math
from typing import Optional

import torch

__all__ = ["STATISTICS", "N_STATISTICS", "pair_statistics", "segment_sort", "midranks"]

STATISTICS = (
    "igci_slope", "entropy", "log_range", "skewness", "log_kurtosis", "tie_fraction",
    "reci_log_mse", "log_resid_var", "resid_skewness", "resid_log_kurtosis",
    "heteroscedasticity", "resid_hsic", "quantile_loss", "log_n",
)
N_STATISTICS = len(STATISTICS)
_FREQUENCIES = (0.5, 1.0, 2.0, 4.0)  # fixed, so the statistics need no random numbers
_CLIP = 8.0
_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class _Segments:
    """Packed-row bookkeeping shared by every statistic: segment ids, starts, per-row expansion."""

    def __init__(self, lengths: torch.Tensor) -> None:
        self.lengths = lengths
        self.n = lengths.numel()
        self.equal = bool((lengths == lengths[0]).all())
        self.seg = torch.repeat_interleave(torch.arange(self.n, device=lengths.device), lengths)
        self.starts = torch.cumsum(lengths, 0) - lengths
        self.row = torch.arange(int(lengths.sum()), device=lengths.device)

    def expand(self, per_segment: torch.Tensor) -> torch.Tensor:
        """(B,) → (T,): each segment's value on each of its rows (a broadcast view when sizes are equal)."""
        if self.equal:
            return per_segment[:, None].expand(-1, int(self.lengths[0])).reshape(-1)
        return torch.repeat_interleave(per_segment, self.lengths)

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.equal:
            return values.view(self.n, -1, *values.shape[1:]).sum(1)
        out = values.new_zeros((self.n,) + values.shape[1:])
        return out.index_add_(0, self.seg, values)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        sums = self.sum(values)
        return sums / self.lengths.to(values.dtype).view(-1, *([1] * (values.dim() - 1)))

    def outer_mean(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Per-segment mean of u_i v_iᵀ: (T, P), (T, Q) → (B, P, Q), as one batched matmul over
        zero-padded segments (an explicit (T, P, Q) outer product costs several times more)."""
        n_max = int(self.lengths.max())
        if self.equal:
            pu, pv = u.view(self.n, n_max, -1), v.view(self.n, n_max, -1)
        else:
            rows = self.seg * n_max + (self.row - self.expand(self.starts))
            pu = u.new_zeros(self.n * n_max, u.shape[1]).index_copy_(0, rows, u).view(self.n, n_max, -1)
            pv = v.new_zeros(self.n * n_max, v.shape[1]).index_copy_(0, rows, v).view(self.n, n_max, -1)
        return torch.bmm(pu.transpose(1, 2), pv) / self.lengths.to(u.dtype).view(-1, 1, 1)

    def extreme(self, values: torch.Tensor, reduce: str) -> torch.Tensor:
        if self.equal:
            view = values.view(self.n, -1)
            return view.amin(1) if reduce == "amin" else view.amax(1)
        init = math.inf if reduce == "amin" else -math.inf
        return values.new_full((self.n,), init).scatter_reduce(0, self.seg, values, reduce)


def segment_sort(values: torch.Tensor, segs: _Segments, tie_break: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Permutation that sorts rows by ``values`` within each segment, ties by ``tie_break``.

    Sorting by the pair (a, b) makes the sorted sequence a function of the set of points alone,
    so the statistics do not depend on the order of the points, ties included (up to the rounding
    of sums taken in input order, about 1e-15). Segments
    are sorted as rows of a (B, max n) matrix padded with +inf: many short sorts are several times
    faster than one stable sort of all T rows by (segment, value).
    """
    n_max = int(segs.lengths.max())
    if segs.equal:
        flat = None
        ids = segs.row.view(segs.n, n_max)
    else:
        flat = segs.seg * n_max + (segs.row - segs.expand(segs.starts))
        ids = segs.row.new_full((segs.n * n_max,), values.numel()).index_copy_(0, flat, segs.row).view(segs.n, n_max)

    def padded(v):
        if flat is None:
            return v.view(segs.n, n_max)
        return v.new_full((segs.n * n_max,), math.inf).index_copy_(0, flat, v).view(segs.n, n_max)

    if tie_break is None:
        perm = torch.argsort(padded(values), dim=1, stable=True)
    else:
        perm = torch.argsort(padded(tie_break), dim=1, stable=True)
        perm = perm.gather(1, torch.argsort(padded(values).gather(1, perm), dim=1, stable=True))
    ordered = ids.gather(1, perm)
    if flat is None:
        return ordered.reshape(-1)
    keep = torch.arange(n_max, device=values.device)[None, :] < segs.lengths[:, None]
    return ordered[keep]


def running_mean(sorted_values: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Mean of rows lo[i] .. hi[i] − 1 for each row i (windows from :func:`_windows`)."""
    csum = torch.cat([sorted_values.new_zeros(1), torch.cumsum(sorted_values, 0)])
    return (csum[hi] - csum[lo]) / (hi - lo).to(sorted_values.dtype)


def _windows(segs: _Segments, half_width: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row windows [i − h, i + h] clipped to each row's own segment."""
    h = segs.expand(half_width)
    start = segs.expand(segs.starts)
    return torch.maximum(segs.row - h, start), torch.minimum(segs.row + h + 1, start + segs.expand(segs.lengths))


def _rescale01(v: torch.Tensor, segs: _Segments) -> tuple[torch.Tensor, torch.Tensor]:
    lo, hi = segs.extreme(v, "amin"), segs.extreme(v, "amax")
    span = (hi - lo).clamp_min(1e-300)
    return (v - segs.expand(lo)) / segs.expand(span), hi - lo


def _cosine_hsic(a: torch.Tensor, r: torch.Tensor, segs: _Segments) -> torch.Tensor:
    """n · ||Cov(φ(a), φ(r))||²_F with φ(v) = [cos(ωv), sin(ωv)] at the fixed frequencies ω."""
    freqs = torch.tensor(_FREQUENCIES, dtype=a.dtype, device=a.device)

    def features(v):
        arg = v[:, None] * freqs[None, :]
        f = torch.cat([torch.cos(arg), torch.sin(arg)], 1)
        return f - torch.repeat_interleave(segs.mean(f), segs.lengths, dim=0)

    cov = segs.outer_mean(features(a), features(r))  # (B, 8, 8)
    return segs.lengths.to(a.dtype) * cov.pow(2).sum((1, 2))


def _poly_log_mse(a01: torch.Tensor, b01: torch.Tensor, segs: _Segments) -> torch.Tensor:
    """log MSE of the per-segment cubic least-squares fit of b on a (normal equations, ridge 1e-9)."""
    centred = a01 - 0.5  # better conditioned powers
    V = torch.stack([torch.ones_like(centred), centred, centred ** 2, centred ** 3], 1)  # (T, 4)
    moments = segs.outer_mean(V, torch.cat([V, b01[:, None]], 1))  # (B, 4, 5)
    gram, rhs = moments[:, :, :4], moments[:, :, 4]
    eye = torch.eye(4, dtype=a01.dtype, device=a01.device)
    coef = torch.linalg.solve(gram + 1e-9 * eye, rhs.unsqueeze(-1)).squeeze(-1)
    # Residuals directly, not E[b²] − 2cᵀE[Vb] + cᵀE[VVᵀ]c: that cancels catastrophically near an
    # exact fit and would make the statistic depend on the order of the points.
    fitted = (V * torch.repeat_interleave(coef, segs.lengths, dim=0)).sum(1)
    resid = b01 - fitted
    return torch.log(segs.mean(resid * resid) + 1e-12)


def _ranks(v: torch.Tensor, segs: _Segments, tie_break: torch.Tensor) -> torch.Tensor:
    """Copula transform: each row's position in its sorted segment, scaled to [0, 1]."""
    order = segment_sort(v, segs, tie_break)
    position = (segs.row - segs.expand(segs.starts)).to(v.dtype)
    ranks = torch.empty_like(v)
    ranks[order] = position / (segs.expand(segs.lengths) - 1).clamp_min(1).to(v.dtype)
    return ranks


def _quantile_loss(rb_sorted: torch.Tensor, segs: _Segments) -> torch.Tensor:
    """Mean pinball loss of rank(b) against its quantiles within equal-count bins of a.

    ``rb_sorted``: ranks of b, rows ordered by a inside each segment, so the bins are runs.
    """
    n = segs.lengths
    k = torch.round(n.to(torch.float64) ** (1 / 3)).long().clamp(2, 20)
    position = segs.row - segs.expand(segs.starts)
    bins = (position * segs.expand(k)) // segs.expand(n)  # 0 .. k-1, equal counts
    group = segs.seg * 20 + bins
    order = segment_sort(2.0 * bins.to(rb_sorted.dtype) + rb_sorted, segs)  # by bin, then by rank
    values, group_sorted = rb_sorted[order], group[order]
    counts = torch.bincount(group_sorted, minlength=segs.n * 20)
    starts = torch.cumsum(counts, 0) - counts
    loss = torch.zeros_like(values)
    for tau in _QUANTILES:
        pick = starts + torch.floor(tau * (counts - 1).clamp_min(0).to(values.dtype) + 0.5).long()
        q = values[pick.clamp(max=values.numel() - 1)][group_sorted]
        u = values - q
        loss = loss + torch.where(u >= 0, tau * u, (tau - 1.0) * u)
    per_row = torch.empty_like(loss)
    per_row[order] = loss / len(_QUANTILES)
    return torch.log(segs.mean(per_row) + 1e-6)


def _squash(s: torch.Tensor) -> torch.Tensor:
    s = torch.nan_to_num(s, nan=0.0, posinf=_CLIP, neginf=-_CLIP)
    return (torch.sign(s) * torch.log1p(s.abs())).clamp(-_CLIP, _CLIP)


def _one_orientation(a: torch.Tensor, b: torch.Tensor, segs: _Segments, first: torch.Tensor,
                     windows: tuple[torch.Tensor, torch.Tensor], m: torch.Tensor,
                     rank_b: torch.Tensor) -> torch.Tensor:
    """(B, N_STATISTICS) statistics of "a causes b" for packed, standardised a and b (float64)."""
    n = segs.lengths.to(a.dtype)
    order = segment_sort(a, segs, b)
    a01, span_a = _rescale01(a, segs)
    b01, _ = _rescale01(b, segs)
    a_s, b_s, a01_s, b01_s = a[order], b[order], a01[order], b01[order]

    # IGCI slope: consecutive differences inside a segment (a segment's first row has no predecessor).
    da = torch.diff(a01_s, prepend=a01_s[:1])
    db = torch.diff(b01_s, prepend=b01_s[:1])
    usable = (~first) & (da != 0) & (db != 0)
    log_slope = torch.where(usable, torch.log((db / torch.where(usable, da, 1.0)).abs().clamp_min(1e-300)), 0.0)
    igci = segs.sum(log_slope) / segs.sum(usable.to(a.dtype)).clamp_min(1.0)

    # m-spacing entropy on [0, 1].
    seg_end = segs.expand(segs.starts + segs.lengths) - 1
    m_rows = segs.expand(m)
    ahead = torch.minimum(segs.row + m_rows, seg_end)
    has_gap = ahead > segs.row
    n_rows = segs.expand(n)
    gap = (a01_s[ahead] - a01_s).clamp_min(1.0 / (10.0 * n_rows))
    spacing = torch.where(has_gap, torch.log((n_rows + 1) / m_rows.to(a.dtype) * gap), 0.0)
    entropy = segs.sum(spacing) / segs.sum(has_gap.to(a.dtype)).clamp_min(1.0)

    powers = segs.mean(torch.stack([a * a, a ** 3, a ** 4], 1))
    var_a = powers[:, 0].clamp_min(1e-12)
    log_range = torch.log(span_a.clamp_min(1e-12) / var_a.sqrt())
    skew = powers[:, 1] / var_a ** 1.5
    log_kurt = torch.log(powers[:, 2].clamp_min(1e-12) / var_a ** 2)
    distinct = (~first) & (torch.diff(a_s, prepend=a_s[:1]) != 0)
    tie_fraction = 1.0 - (segs.sum(distinct.to(a.dtype)) + 1.0) / n

    reci = _poly_log_mse(a01, b01, segs)

    # Smooth regression of b on a: running mean over the nearest points in a.
    r = b_s - running_mean(b_s, *windows)
    r2 = r * r
    moments = segs.mean(torch.stack([r2, r2 * r, r2 * r2], 1))
    var_r = moments[:, 0].clamp_min(1e-12)
    r_skew = moments[:, 1] / var_r ** 1.5
    r_kurt = torch.log(moments[:, 2].clamp_min(1e-24) / var_r ** 2)
    local_var = running_mean(r2, *windows)
    lv = segs.mean(torch.stack([local_var, local_var * local_var], 1))
    lv_mean = lv[:, 0].clamp_min(1e-12)
    hetero = (lv[:, 1] - lv[:, 0] ** 2).clamp_min(0.0).sqrt() / lv_mean
    hsic = _cosine_hsic(a_s, r / segs.expand(var_r.sqrt()), segs)
    quantile = _quantile_loss(rank_b[order], segs)

    stats = torch.stack([igci, entropy, log_range, skew, log_kurt, tie_fraction, reci, torch.log(var_r),
                         r_skew, r_kurt, hetero, hsic, quantile, torch.log(n)], 1)
    return _squash(stats)


@torch.no_grad()
def pair_statistics(points: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Packed standardised points (T, 2) with lengths (B,) → (B, 2, N_STATISTICS).

    Row ``[:, 0]`` holds the statistics of "x causes y", row ``[:, 1]`` those of "y causes x";
    swapping the columns of the points swaps the two rows exactly.
    """
    values = points.to(torch.float64)
    segs = _Segments(lengths)
    first = torch.zeros(values.shape[0], dtype=torch.bool, device=values.device)
    first[segs.starts] = True
    n = lengths.to(torch.float64)
    windows = _windows(segs, torch.ceil(0.05 * n).long() + 1)
    m = torch.ceil(torch.sqrt(n) / 2).long().clamp_min(1)
    x, y = values[:, 0], values[:, 1]
    rank_x, rank_y = _ranks(x, segs, y), _ranks(y, segs, x)
    xy = _one_orientation(x, y, segs, first, windows, m, rank_y)
    yx = _one_orientation(y, x, segs, first, windows, m, rank_x)
    return torch.stack([xy, yx], 1).to(points.dtype)


@torch.no_grad()
def midranks(points: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Copula coordinates of packed points (T, 2): each variable's mid-rank in its pair, mapped to
    [−1, 1]. Tied values share the mean of their positions, so the result depends on the set of
    values only (never on point order, never on the other variable)."""
    segs = _Segments(lengths)
    n = segs.expand(segs.lengths).to(torch.float64)
    out = []
    for v in points.to(torch.float64).unbind(1):
        order = segment_sort(v, segs)
        v_sorted = v[order]
        new_run = torch.ones_like(v_sorted, dtype=torch.bool)
        new_run[1:] = v_sorted[1:] != v_sorted[:-1]
        new_run[segs.starts] = True
        run = torch.cumsum(new_run.long(), 0) - 1
        position = (segs.row - segs.expand(segs.starts)).to(torch.float64)
        n_runs = int(run[-1]) + 1 if run.numel() else 0
        run_sum = torch.zeros(n_runs, dtype=torch.float64).index_add_(0, run, position)
        run_len = torch.zeros(n_runs, dtype=torch.float64).index_add_(0, run, torch.ones_like(position))
        scaled = 2.0 * (run_sum / run_len)[run] / (n - 1).clamp_min(1.0) - 1.0
        ranks = torch.empty_like(v_sorted)
        ranks[order] = torch.where(n > 1, scaled, torch.zeros_like(scaled))
        out.append(ranks)
    return torch.stack(out, 1).to(points.dtype)
