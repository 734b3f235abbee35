"""Callables for ``--arch tests.vision.arch_helpers:NAME`` in the tests (tiny random modules)."""
from __future__ import annotations

import torch
from torch import nn


class TinyConvNet(nn.Module):
    """(B, 3, H, W) -> a (B, 8, H/8, W/8) map, with a classification head the extraction ignores."""

    def __init__(self, classes: int = 5):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU())

    def forward(self, x):
        return self.body(x)


class TinyPooled(nn.Module):
    """(B, 3, H, W) -> (B, 6) features: no map."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x)).amax(dim=(2, 3))


class WrongShape(nn.Module):
    def forward(self, x):
        return x[:, :, 0]  # (B, 3, W): neither features nor a map


def tiny_convnet():
    return TinyConvNet()


def tiny_pooled():
    return TinyPooled()


def wrong_shape():
    return WrongShape()


def not_a_module():
    return 42


def raises():
    raise RuntimeError("weights server unreachable")


NOT_CALLABLE = 3
