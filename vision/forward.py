"""The main side of extraction: run the backbone on a uint8 batch and check what it gives."""
from __future__ import annotations

import numpy as np
import torch

from vision.backbones import Backbone, BackboneError, check_output, pool_output
from vision.preprocess import Preprocessing, normalize


def forward_batch(backbone: Backbone, batch: torch.Tensor, prep: Preprocessing, device: torch.device,
             forward_batch: int, map_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Features (N, C) of a uint8 batch, and the float16 maps of the rows ``map_rows`` (or None)."""
    outs, maps = [], []
    for start in range(0, len(batch), forward_batch):
        x = normalize(batch[start:start + forward_batch].to(device, non_blocking=True), prep)
        x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's fastest conv layout on CPU
        out = backbone.model(x)
        dim, _ = check_output(out, len(x), backbone_name(backbone.arch, backbone.weights), prep.crop)
        if dim != backbone.feature_dim:
            raise BackboneError(f"backbone {backbone_name(backbone.arch, backbone.weights)} gives {dim} features at "
                                f"{prep.crop}x{prep.crop}, not the {backbone.feature_dim} it gave when built")
        outs.append(pool_output(out).float().cpu())
        if map_rows is not None:
            rows = map_rows[(map_rows >= start) & (map_rows < start + len(x))] - start
            if len(rows):
                maps.append(out[torch.as_tensor(rows, device=out.device)].to(torch.float16).cpu().contiguous())
    feats = torch.cat(outs).numpy()
    if map_rows is None or not maps or maps[0].ndim != 4:
        return feats, None  # no map wanted, or the backbone gives pooled features only
    return feats, torch.cat(maps).numpy()


def backbone_name(arch: str, weights: dict | None) -> str:
    """"resnet18 (weights /x/w.pth)": how messages name a backbone."""
    w = weights or {}
    seeded = f"random init, seed {w.get('seed')}" if w.get("kind") == "random-init" else None
    what = w.get("path") or w.get("name") or seeded
    return f"{arch} (weights {what})" if what else arch


def check_features(feats: np.ndarray, inputs: torch.Tensor, backbone: Backbone) -> None:
    """Refuse what a broken backbone (e.g. NaN weights) gives: non-finite features, or one
    feature vector for different input images. Stored, they would be "scored" like real ones."""
    if not np.isfinite(feats).all():
        raise BackboneError(f"backbone {backbone_name(backbone.arch, backbone.weights)} gives NaN or infinite "
                            "features; its weights are broken")
    differ = any(not torch.equal(inputs[0], x) for x in inputs[1:])
    if differ and feats.shape[1] > 1 and not (np.ptp(feats, axis=0) > 0).any():
        raise BackboneError(f"backbone {backbone_name(backbone.arch, backbone.weights)} gives the same features "
                            f"for {len(inputs)} different images; its weights are broken")
