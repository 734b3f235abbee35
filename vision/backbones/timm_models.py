"""``timm:NAME`` backbones (the optional ``timm`` extra): timm's model seen through
``forward_features``, with timm's own pretrained mean, std and input size."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from vision.backbones.checkpoints import HEAD_NAMES, load_checkpoint_into, looks_like_path
from vision.backbones.core import (
    Backbone,
    BackboneError,
    first_line,
    probe,
    random_init_identity,
    seeded_call,
    state_dict_sha256,
)
from vision.preprocess import Preprocessing


class TimmFeatures(nn.Module):
    """A timm model seen through ``forward_features``: its last map (B, C, h, w), or, for token
    models (ViT-like), timm's own pooled pre-logits features (B, C)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model.forward_features(x)
        if out.ndim == 4:
            if out.shape[1] != self.model.num_features and out.shape[-1] == self.model.num_features:
                out = out.permute(0, 3, 1, 2)  # channels-last maps (some timm families)
            return out
        return self.model.forward_head(out, pre_logits=True)


def backbone_from_timm(name: str, weights: str | os.PathLike | None = None, *, random_init: bool = False,
                       seed: int = 0) -> Backbone:
    """``timm:NAME``: ``--weights pretrained`` (timm downloads them), a checkpoint file, or random init."""
    try:
        import timm
        from timm.data import resolve_model_data_config
    except ImportError:
        raise BackboneError(f"--arch timm:{name} needs timm: pip install 'ncc[timm]'") from None
    if not timm.is_model(name):
        raise BackboneError(f"--arch timm:{name}: timm has no model {name!r} (see timm.list_models())")
    spec = "" if weights is None else str(weights)
    notes: list[str] = []
    try:
        if spec == "pretrained":
            model = timm.create_model(name, pretrained=True, num_classes=0)
            ident: dict = {"kind": "timm", "name": f"timm:{name}", "pretrained": True}
        else:
            if not spec and not random_init:
                raise BackboneError("no --weights given: pass 'pretrained' (timm's weights) or a checkpoint path, "
                                    "or --random-init for a test run")
            model = seeded_call(lambda: timm.create_model(name, pretrained=False, num_classes=0), seed)
            ident = random_init_identity(seed)
    except BackboneError:
        raise
    except Exception as exc:  # noqa: BLE001 - download / config failures: one line
        raise BackboneError(f"--arch timm:{name}: cannot create the model ({type(exc).__name__}: {first_line(exc)})"
                            ) from None
    if spec and spec != "pretrained":
        path = Path(spec).expanduser()
        if not path.is_file():
            raise BackboneError(f"{spec}: checkpoint file not found" if looks_like_path(spec) else
                                f"--weights {spec!r}: for timm, give 'pretrained' or a checkpoint file")
        # the model is built without a classifier (num_classes=0): the checkpoint's is ignored
        ident = load_checkpoint_into(model, path, f"timm:{name}", HEAD_NAMES)
    elif random_init and spec:
        notes.append("--random-init ignored because --weights was given")
    if ident.get("kind") == "random-init":
        notes.append(ident["warning"])
    cfg = resolve_model_data_config(model)
    _, h, w = cfg["input_size"]
    if h != w:
        raise BackboneError(f"--arch timm:{name}: input size {h}x{w} is not square; "
                            "only square centre crops are supported")
    prep = Preprocessing(resize=int(h), crop=int(h), mean=tuple(float(v) for v in cfg["mean"]),
                         std=tuple(float(v) for v in cfg["std"]))
    ident["data_config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    wrapped = TimmFeatures(model.eval()).eval()
    dim, map_shape = probe(wrapped, prep.crop, f"timm:{name}")
    ident["state_dict_sha256"] = state_dict_sha256(model)
    return Backbone(arch=f"timm:{name}", model=wrapped, feature_dim=dim, weights=ident, notes=notes,
                    preprocessing=prep, gives_map=map_shape is not None)

