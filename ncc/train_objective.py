"""The symmetric loss, held-out evaluation, the optimiser and its learning-rate schedule."""
from __future__ import annotations

import math
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F

from ncc.data import pad_pairs, size_sorted_chunks
from ncc.model import NCC, NCCEnsemble
from ncc.train_config import TrainConfig
from ncc.train_sources import Pairs

# ----------------------------------------------------------------------------------------------
# Loss, evaluation, optimiser.
# ----------------------------------------------------------------------------------------------

def targets_from_labels(y) -> torch.Tensor:
    """Labels 1 / 0 / −1 → P(x → y) targets 1 / 0 / ½."""
    y = torch.as_tensor(np.asarray(y))
    return torch.where(y < 0, torch.full(y.shape, 0.5), y.to(torch.float32)).to(torch.float32)


def symmetric_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE of f(x, y) against t plus BCE of f(y, x) against 1 − t, averaged over both."""
    both = torch.stack((target, 1.0 - target), dim=1).to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, both)


def _to_list(X: Pairs) -> list:
    return list(X) if isinstance(X, np.ndarray) else X


def _model_device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(model: Union[NCC, NCCEnsemble], X: Pairs, y, batch_size: int = 256) -> dict:
    """Held-out metrics in eval mode: accuracy on pairs with a causal link, symmetrised loss.

    An ensemble's loss is that of its mean score (as a probability).
    """
    y = np.asarray(y)
    if len(y) == 0:
        return {"n_pairs": 0, "accuracy": None, "loss": None}
    scores = _scores_of(model, _to_list(X), batch_size)
    linked = y >= 0
    accuracy = float(np.mean((scores[linked] > 0.5) == (y[linked] == 1))) if linked.any() else None
    target = targets_from_labels(y).double().numpy()
    p = np.clip(scores, 1e-7, 1 - 1e-7)
    loss = float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))
    return {"n_pairs": int(len(y)), "accuracy": accuracy, "loss": loss}


@torch.no_grad()
def evaluate_link(model, X: Pairs, y, batch_size: int = 256) -> dict:
    """Held-out link metrics in eval mode: accuracy of p_none > ½ for "no link", its binary
    cross-entropy, and the AUC of p_none for no link (label −1) against a link (1 / 0).

    ``model``: a :class:`~ncc.link.LinkModel`, or one NCC network being trained for the link head.
    """
    from ncc.link import LinkModel
    from ncc.metrics import auc

    y = np.asarray(y)
    if len(y) == 0:
        return {"n_pairs": 0, "accuracy": None, "loss": None, "auc": None}
    net = model if isinstance(model, LinkModel) else LinkModel([model])
    p_none = _scores_of(net, _to_list(X), batch_size)
    unlinked = (y < 0).astype(float)
    p = np.clip(p_none, 1e-7, 1 - 1e-7)
    loss = float(np.mean(-(unlinked * np.log(p) + (1 - unlinked) * np.log(1 - p))))
    accuracy = float(np.mean((p_none > 0.5) == (unlinked == 1)))
    value = auc(unlinked, p_none)
    return {"n_pairs": int(len(y)), "accuracy": accuracy, "loss": loss,
            "auc": None if value != value else value}


def _scores_of(model, pairs: list, batch_size: int) -> np.ndarray:
    """``model.score`` of every pair in eval mode, in size-sorted chunks."""
    was_training = model.training
    model.eval()
    scores = np.empty(len(pairs))
    device = _model_device(model)
    try:
        for chunk in size_sorted_chunks([len(p) for p in pairs], batch_size, 1 << 19):
            points, mask = pad_pairs([pairs[i] for i in chunk], torch.float64, device)
            scores[chunk] = model.score(points, mask)[0].cpu().numpy()
    finally:
        model.train(was_training)
    return scores


def _make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)


def _lr_at(step: int, config: TrainConfig) -> float:
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
    return config.lr
