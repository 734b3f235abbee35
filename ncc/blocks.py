"""The hidden layer of φ and ψ (:class:`DenseBlock`: Linear → BatchNorm → ReLU → Dropout) and
its cheap dropout (:class:`FastDropout`); the fused CPU path and the plain reference path live here,
side by side. Re-exported by :mod:`ncc.model`, where they were first defined.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DenseBlock", "FastDropout", "run_blocks"]


class FastDropout(nn.Module):
    """Inverted dropout whose random mask costs one 64-bit draw per four activations.

    On CPU, ``nn.Dropout`` draws one random number per activation, which made it the most
    expensive part of a training step (φ's activations are per point). Here a 16-bit random
    integer per activation is compared with ``p · 2¹⁶``, so the rate is ``p`` rounded to 1/65536
    (exact for the paper's 0.25). The torch generator is used, so ``torch.manual_seed`` and the
    saved RNG state fix the masks. Other devices use their own (fast) bernoulli masks.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)
        self.threshold = round(self.p * 65536) - 32768  # int16 values below it are dropped

    @property
    def scale(self) -> float:
        return 1.0 / (1.0 - self.p)

    def keep_mask(self, like: torch.Tensor) -> torch.Tensor:
        """Float tensor shaped like ``like``: 1 where an activation is kept, 0 where dropped.

        Float, not bool: on CPU multiplying by a float mask is several times faster than
        ``where``/``masked_fill`` with a bool one, forward and backward.
        """
        if like.device.type != "cpu":
            return (torch.rand_like(like) >= self.p).to(like.dtype)
        n = like.numel()
        words = torch.randint(-2**63, 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64)
        values = words.view(torch.int16)[:n].view(like.shape).to(like.dtype)
        # Integers: v >= threshold  <=>  v - (threshold - 1) >= 1, and clamping to [0, 1] gives 1 or 0.
        return values.sub_(self.threshold - 1).clamp_(0.0, 1.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return h
        return h * self.keep_mask(h) * self.scale

    def extra_repr(self) -> str:
        return f"p={self.p}"


class DenseBlock(nn.Module):
    """One hidden layer of the paper: Linear → BatchNorm → ReLU → Dropout.

    Training computes the same thing in fewer passes over the activations (they are per point, so
    memory traffic dominates): dropout's 1/(1−p) is folded into the batch-norm affine map, and
    zeroing commutes with ReLU. In eval mode the batch norm (running statistics) is folded into
    the linear layer: one affine map, then ReLU in place.
    """

    #: The fused passes are a CPU optimisation; ``False`` (or any other device) runs the plain
    #: reference path, nn.Linear → nn.BatchNorm1d → ReLU → nn.Dropout, with the same parameters.
    fused: bool = True

    def __init__(self, d_in: int, d_out: int, dropout: float, batchnorm: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.norm = nn.BatchNorm1d(d_out) if batchnorm else None
        self.dropout = FastDropout(dropout) if dropout > 0 else None
        self.plain_dropout = nn.Dropout(dropout) if dropout > 0 else None  # no state: files are unchanged

    def uses_fused(self, h: torch.Tensor) -> bool:
        return self.fused and h.device.type == "cpu"

    def reference_forward(self, h: torch.Tensor) -> torch.Tensor:
        h = self.linear(h)
        if self.norm is not None:
            h = self.norm(h)
        h = F.relu(h)
        return self.plain_dropout(h) if self.plain_dropout is not None else h

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight and bias of Linear followed by eval-mode BatchNorm, as one affine map."""
        weight, bias = self.linear.weight, self.linear.bias
        if self.norm is None:
            return weight, bias
        scale = self.norm.weight / torch.sqrt(self.norm.running_var + self.norm.eps)
        return weight * scale[:, None], (bias - self.norm.running_mean) * scale + self.norm.bias

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.uses_fused(h):
            return self.reference_forward(h)
        if not self.training:
            weight, bias = self.folded()
            return F.linear(h, weight, bias).relu_()
        h = self.linear(h)
        scale = self.dropout.scale if self.dropout is not None else 1.0
        if self.norm is not None:
            norm = self.norm  # its batch statistics, with the dropout scale in the affine part
            norm.num_batches_tracked.add_(1)
            h = F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight * scale, norm.bias * scale,
                             training=True, momentum=norm.momentum, eps=norm.eps)
        elif scale != 1.0:
            h = h * scale
        if self.dropout is not None:
            h = h.mul_(self.dropout.keep_mask(h))  # in place: batch norm does not need its output
        return h.relu_()


def run_blocks(blocks: nn.Sequential, h: torch.Tensor, folded=None) -> torch.Tensor:
    """φ blocks in training mode, or their folded eval form: one affine map and ReLU in place."""
    if folded is None:
        return blocks(h)
    for weight, bias in folded:
        h = F.linear(h, weight, bias).relu_()
    return h
