"""Shared fixtures: a tiny NCC model file and tiny random-init backbones (nothing is downloaded)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_ncc_model(tmp_path_factory):
    """A small untrained NCC saved with the model engineer's API: exercises the real scoring path."""
    import torch

    import ncc
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    model = NCC(NCCConfig(embed_dim=8, classifier_dim=8))
    path = tmp_path_factory.mktemp("ncc-model") / "tiny.safetensors"
    ncc.save(model, path)
    return path


@pytest.fixture(scope="session")
def resnet18_random():
    from vision.backbones import build_backbone

    return build_backbone("resnet18", None, random_init=True, seed=0)
