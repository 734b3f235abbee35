"""The link head: P(no causal link between x and y), the third answer beside x → y and y → x.

A link model is one or more NCC networks (:class:`~ncc.model.NCC`, the same set architecture,
trained with their own loss, see :mod:`ncc.train`), read symmetrically:

    l(x, y) = f(x, y) + f(y, x),    g(x, y) = ½ (l(x, y) + l(y, x)),    p_none(x, y) = σ(g(x, y)),

where [f(x, y), f(y, x)] are the network's two orientation logits. l is symmetric in exact
arithmetic, but in float32 a swapped pair can move its last bits (BLAS kernels treat rows by their
position; about 1e-8 on pairs of thousands of points). So g runs the network on both column orders
and adds the two results: a swapped pair runs the very same two computations and float addition
is commutative, hence p_none(y, x) == p_none(x, y) bit for bit, at twice the (small) cost.
Training uses l of the given order (equal to g within those last bits). It is trained with
binary cross-entropy: target 1 for pairs without a link (the generator's ``independent`` and
``confounded`` kinds, label −1), 0 for causal pairs in either direction (with or without an
extra hidden confounder, as in SIM-c: x still causes y). An ensemble averages p_none.

The direction model is untouched: its score stays the antisymmetric P(x → y), and
:func:`ncc.predict_relation` combines both as {x→y: (1 − r) s, y→x: (1 − r)(1 − s), none: r}.

Link models are stored as safetensors with ``format = "ncc-link-model"`` (so a direction model can
never be read as a link model, nor the reverse); see :mod:`ncc.serialization`.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from ncc.model import MemberNetworks, pack, standardize

__all__ = ["LinkModel", "link_logits", "link_loss", "unlinked_targets"]


def link_logits(orientation_logits: torch.Tensor) -> torch.Tensor:
    """(B, 2) logits [f(x, y), f(y, x)] → (B,) symmetric link logits f(x, y) + f(y, x)."""
    return orientation_logits[:, 0] + orientation_logits[:, 1]


def unlinked_targets(y) -> torch.Tensor:
    """Generator labels (1 / 0: a causal link, −1: none) → float targets P(no link) 0 / 0 / 1."""
    import numpy as np

    return torch.as_tensor(np.asarray(y) < 0, dtype=torch.float32)


def link_loss(orientation_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of σ(f(x, y) + f(y, x)) against P(no link)."""
    return F.binary_cross_entropy_with_logits(link_logits(orientation_logits), target.to(orientation_logits.dtype))


class LinkModel(MemberNetworks):
    """P(no causal link) from one or more NCC networks; ``score`` mirrors :meth:`NCC.score`."""

    _needs_one = "a link model needs at least one network"
    _must_share = "all networks of a link model must share one NCCConfig"

    def forward(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Symmetric link logits g of every member: (K, B), in float64."""
        packed, lengths = pack(points, mask)
        return self._symmetric_logits(packed, lengths)[0]

    def _symmetric_logits(self, packed: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """½ (l of the given column order + l of the swapped order), and the constant flags."""
        dtype = self.members[0].head.weight.dtype
        halves = []
        for points in (packed.contiguous(), packed.flip(-1).contiguous()):
            standardised, constant = standardize(points, lengths, dtype)
            halves.append(self._logits(standardised, lengths))
        return 0.5 * (halves[0] + halves[1]), constant

    def _logits(self, standardised: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """l = f(x, y) + f(y, x) of every member, for one column order: (K, B), float64."""
        prepared = self.members[0].prepare(standardised, lengths)  # ranks and statistics once
        return torch.stack([link_logits(m.packed_logits(standardised, lengths, prepared).to(torch.float64))
                            for m in self.members])

    def score(self, points: torch.Tensor, mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """P(no link) per pair (float64, symmetric) and the constant-variable flags.

        A constant variable carries no information either way: such a pair gets 0.5 (flagged),
        as its direction score does.
        """
        packed, lengths = pack(points, mask)
        logits, constant = self._symmetric_logits(packed, lengths)
        p_none = torch.sigmoid(logits).mean(0)
        return torch.where(constant, torch.full_like(p_none, 0.5), p_none), constant
