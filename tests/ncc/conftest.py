"""Shared fixtures for the NCC tests."""
from __future__ import annotations

import pytest
import torch

from ncc.model import NCC, NCCConfig


def _train_tiny(config: NCCConfig, seed: int = 0) -> NCC:
    """A tiny network trained for a few steps on synthetic pairs of mixed sizes: its weights and
    batch-norm statistics are far from their initial values and its scores spread out."""
    import synthetic
    from ncc.data import pad_pairs
    from ncc.train import symmetric_loss, targets_from_labels

    torch.manual_seed(seed)
    model = NCC(config)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    X, y = synthetic.make_pairs(48, n_points=(20, 80), random_state=seed)
    points, mask = pad_pairs(X, torch.float32)
    for _ in range(15):
        loss = symmetric_loss(model(points, mask), targets_from_labels(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def train_tiny():
    """``train_tiny(config, seed=0)`` → a briefly trained tiny :class:`NCC` in eval mode."""
    return _train_tiny


class MarkerPayload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="session")
def marker_payload():
    """``marker_payload(path)`` → an object whose unpickling would create ``path``."""
    return MarkerPayload


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for modules that train tiny models: on a busy shared machine a second,
    waiting thread makes such runs crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
