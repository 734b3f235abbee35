"""Feature extraction: decode each image once, derive its versions, run the backbone, stream to disk.

Per image, a DataLoader worker decodes the file, builds the original and, for each selected
category present, the context-only and object-only versions (in original pixel space), and
resizes/crops all of them as uint8. The main process normalises, runs the backbone under
``torch.inference_mode`` and appends the features to the current chunk, which is written to
disk as soon as its last image is done.

A category whose boxes the centre crop removes entirely gives no intervention (its context-only
crop is the original crop): it gets no (image, category) pair, so it is left out of the ratios,
and it is listed in the summary's ``cropped_out``. Images above ``max_pixels`` (decoded, or after
the resize) are skipped before decoding; only regular files inside the images folder are read.

When the backbone returns a map (B, C, h, w), the features are its global average; the map of
each original image is kept (float16), and for every (image, category) pair the worker also
sends its boxes through the same resize and crop to give the share of each map cell they cover
(see :mod:`vision.store` for the arrays).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import torch

from ncc._version import __version__
from ncc.devices import resolve_device
from vision._io import write_json_atomic
from vision.annotations import Box, Dataset, load_dataset
from vision.backbones import (Backbone, BackboneError, check_output, from_module, load_backbone, module_class_name,
                              pool_output, state_dict_sha256, warn_random_weights)
from vision.masks import box_coverage, box_pixel_span, cell_coverage
from vision.preprocess import (IMAGENET_MEAN, IMAGENET_STD, MAX_PIXELS, ImageTooLarge, Preprocessing, decode_image,
                               normalize, resize_and_crop)
from vision.store import FeatureStore, parse_shard, plan_chunks, shard_from_environment, shard_images


@dataclass
class ExtractionConfig:
    arch: str = "resnet18"  # the paper's backbone; or timm:NAME, or package.module:callable
    weights: str | None = None  # torchvision enum name (DEFAULT, IMAGENET1K_V1, ...), timm's "pretrained", or checkpoint path
    random_init: bool = False  # explicit opt-in to random weights (tests, timing), never silent
    resize: int | None = None  # shorter side after resizing; None: the backbone's own (timm's input size), else the paper's 224
    crop: int | None = None  # centre-crop size; None = same as resize, as in the paper
    mean: tuple[float, float, float] | None = None  # normalisation; None: the backbone's (torchvision/timm weights, else ImageNet)
    std: tuple[float, float, float] | None = None
    store_maps: bool = True  # keep the originals' last maps + box coverage (objectness); ~5 GB per 100k images at 512x7x7
    versions: str = "all"  # "all": original + context-only + object-only; "original": classifier training sets
    batch_size: int = 16  # images per DataLoader batch
    forward_batch: int = 64  # tensors per forward pass: bounds activation memory whatever the categories per image
    num_workers: int = 2  # decoding, masking and resizing run in these processes, off the forward path
    device: str = "auto"  # auto = cuda when available
    chunk_size: int = 128  # images per chunk file: the most work an interruption can lose
    shard: str | None = "1/1"  # K/N: this process does every N-th image starting at the K-th; None: from torchrun/SLURM
    seed: int = 0  # seeds random-init weights
    max_pixels: int = MAX_PIXELS  # larger images (decoded, or after the resize) are skipped undecoded

    def __post_init__(self) -> None:
        if self.versions not in ("all", "original"):
            raise ValueError(f"versions must be 'all' or 'original', got {self.versions!r}")
        for name in ("batch_size", "forward_batch", "chunk_size", "resize", "crop", "max_pixels"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.num_workers < 0:
            raise ValueError("num_workers must be >= 0")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")


# ---------------------------------------------------------------------------- worker side

def image_versions(image: torch.Tensor, boxes_by_category: Sequence[tuple[int, Sequence[Box]]]
                   ) -> tuple[torch.Tensor, list[int]]:
    """Stack ``[original, context_1, object_1, context_2, object_2, ...]`` for one decoded image.

    Same pixels as :func:`vision.masks.context_only` / :func:`vision.masks.object_only`, written
    straight into one channels-last uint8 block (no intermediate copies; the layout the fast
    resize wants). Categories whose boxes cover no pixel of the actual image are left out (their
    indices are not returned), so a wrong declared image size cannot produce a fake intervention.
    """
    height, width = image.shape[-2:]
    spans, kept = [], []
    for cat, boxes in boxes_by_category:
        s = [sp for sp in (box_pixel_span(b, height, width) for b in boxes) if sp is not None]
        if s:
            spans.append(s)
            kept.append(cat)
    out = torch.empty((1 + 2 * len(kept), 3, height, width), dtype=image.dtype,
                      memory_format=torch.channels_last)
    out[0] = image
    for j, cat_spans in enumerate(spans):
        ctx, obj = out[1 + 2 * j], out[2 + 2 * j]
        ctx.copy_(image)
        obj.zero_()
        for r0, r1, c0, c1 in cat_spans:
            ctx[:, r0:r1, c0:c1] = 0
            obj[:, r0:r1, c0:c1] = image[:, r0:r1, c0:c1]
    return out, kept


def drop_cropped_out(crops: torch.Tensor, kept: list[int]) -> tuple[torch.Tensor, list[int], list[int]]:
    """Leave out the categories whose boxes the centre crop removes entirely.

    Such a context-only crop equals the original crop (and the object-only one is black): it is
    no intervention, and counting it would pull the ratios towards 1. Returns the remaining
    stack, the categories kept and the categories cropped out (reported separately)."""
    rows, kept_now, cropped = [0], [], []
    for j, cat in enumerate(kept):
        if torch.equal(crops[1 + 2 * j], crops[0]):
            cropped.append(cat)
        else:
            rows += [1 + 2 * j, 2 + 2 * j]
            kept_now.append(cat)
    return (crops if not cropped else crops[rows]), kept_now, cropped


class ImageVersionsDataset(torch.utils.data.Dataset):
    """Items ``(index, uint8 (V, 3, S, S) or None, category indices, error or None, categories
    cropped out, float16 (k, S, S) box masks of the kept categories after the resize and crop, or None)``."""

    def __init__(self, items: list[tuple[int, str, list[tuple[int, list[Box]]]]], prep: Preprocessing,
                 interventions: bool = True, max_pixels: int = MAX_PIXELS, box_masks: bool = False):
        self.items = items  # (image index, path, [(category index, boxes)]) : small and picklable
        self.prep = prep
        self.interventions = interventions
        self.max_pixels = max_pixels
        self.box_masks = box_masks  # also send each kept category's box mask (for the maps' box coverage)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        index, path, cats = self.items[i]
        try:
            image = decode_image(path, self.prep, self.max_pixels)
        except ImageTooLarge as exc:
            return index, None, [], str(exc), [], None
        except Exception as exc:  # noqa: BLE001 - a bad file is reported, the others go on
            msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            reason = "image file not found" if not os.path.exists(path) else f"cannot decode image ({msg})"
            return index, None, [], reason, [], None
        if image.shape[-1] < 1 or image.shape[-2] < 1:
            return index, None, [], "empty image", [], None
        stack, kept = image_versions(image, cats if self.interventions else [])
        crops, kept, cropped = drop_cropped_out(resize_and_crop(stack, self.prep), kept)
        masks = None
        if self.box_masks:
            boxes = dict(cats)
            height, width = image.shape[-2:]
            masks = torch.zeros((len(kept), self.prep.crop, self.prep.crop), dtype=torch.float16)
            for j, cat in enumerate(kept):
                masks[j] = box_coverage(boxes[cat], height, width, lambda m: resize_and_crop(m, self.prep))
        return index, crops, kept, None, cropped, masks


def _as_list(batch):
    return batch


# ---------------------------------------------------------------------------- main side

class _Chunk:
    """Buffers the features of one chunk until all its images are done."""

    def __init__(self, chunk_id: int, indices: list[int]):
        self.chunk_id = chunk_id
        self.pending = set(indices)
        self.image_index: list[int] = []
        self.original: list[np.ndarray] = []
        self.pair_image: list[int] = []
        self.pair_category: list[int] = []
        self.context: list[np.ndarray] = []
        self.object: list[np.ndarray] = []
        self.original_map: list[np.ndarray] = []  # float16 (C, h, w) per original, when maps are kept
        self.coverage: list[np.ndarray] = []  # float16 (h, w) per pair
        self.failed: list[dict] = []

    def arrays(self, dim: int, map_shape: tuple[int, int, int] | None = None) -> dict[str, np.ndarray]:
        def stack(rows):
            return np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
        order = np.argsort(self.image_index, kind="stable")
        maps = {}
        if map_shape is not None:
            c, h, w = map_shape
            maps = {"original_map": (np.stack(self.original_map).astype(np.float16)[order] if self.original_map
                                     else np.zeros((0, c, h, w), np.float16)),
                    "pair_box_coverage": (np.stack(self.coverage).astype(np.float16) if self.coverage
                                          else np.zeros((0, h, w), np.float16))}
        return {**maps,
            "image_index": np.asarray(self.image_index, np.int64)[order],
            "original": stack(self.original)[order] if self.original else stack([]),
            "pair_image": np.asarray(self.pair_image, np.int64),
            "pair_category": np.asarray(self.pair_category, np.int64),
            "context_only": stack(self.context),
            "object_only": stack(self.object),
        }


def _forward(backbone: Backbone, batch: torch.Tensor, prep: Preprocessing, device: torch.device,
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
    what = w.get("path") or w.get("name") or (f"random init, seed {w.get('seed')}" if w.get("kind") == "random-init" else None)
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


def weights_fingerprint(ident: dict) -> dict:
    """The part of a weights identity that determines the features (not where the file lives)."""
    return {k: v for k, v in ident.items() if k in ("kind", "name", "sha256", "seed", "prefix_stripped", "class")}


def resolve_preprocessing(backbone: Backbone, cfg: ExtractionConfig) -> Preprocessing:
    """Sizes and statistics: the config's where given, else the backbone's own (timm's config, the
    caller's for a bare module, torchvision weights' mean/std), else the paper's 224 and ImageNet."""
    base = backbone.preprocessing or Preprocessing.from_weights(backbone.torchvision_weights)
    resize = cfg.resize if cfg.resize is not None else base.resize
    crop = cfg.crop if cfg.crop is not None else (resize if cfg.resize is not None else base.crop)
    return Preprocessing(resize=resize, crop=crop, mean=tuple(cfg.mean or base.mean), std=tuple(cfg.std or base.std))


def extract_features(
    images: str | os.PathLike | None,
    annotations: str | os.PathLike | Sequence[str | os.PathLike] | None,
    features_dir: str | os.PathLike,
    config: ExtractionConfig | None = None,
    *,
    categories: str | Sequence[str] | None = None,
    split: str | None = None,
    fmt: str = "auto",
    background: bool = False,
    limit: int | None = None,
    dataset: Dataset | None = None,
    backbone: "Backbone | torch.nn.Module | None" = None,
    preprocessing: Preprocessing | None = None,
    progress: bool = True,
    **overrides: Any,
) -> dict:
    """Extract original, context-only and object-only features of a dataset into ``features_dir``.

    Parameters
    ----------
    images, annotations
        The images folder and the COCO JSON / VOC XML annotations (see
        :func:`vision.annotations.load_dataset`); ignored when ``dataset`` is given.
    features_dir
        Output folder. Rerunning with the same settings resumes: finished chunks are skipped.
    config
        :class:`ExtractionConfig`; keyword ``overrides`` replace its fields
        (e.g. ``arch="resnet50", weights="DEFAULT"`` or ``random_init=True``).
    categories
        ``None``/"voc" (20 PASCAL VOC categories), "all", or names.
    background
        Keep images without a selected category (original version only) as negatives.
    limit
        Use only the first ``limit`` images (sorted by name): quick looks at big datasets.
    backbone
        A prebuilt :class:`vision.backbones.Backbone`, or a bare ``torch.nn.Module`` mapping a
        ``(B, 3, H, W)`` batch to ``(B, C)`` features or to a ``(B, C, h, w)`` map (averaged into
        the features; the map of each original is kept for the objectness). Otherwise built from
        the config (``arch``: a torchvision name, ``timm:NAME`` or ``package.module:callable``).
    preprocessing
        Sizes, mean and std for a bare module (default: ImageNet statistics and 224; the
        config's ``resize``/``crop``/``mean``/``std`` still win where given).

    Returns a summary dict: counts, failed images, timing, the shard and where it came from,
    and the features folder.
    """
    cfg = replace(config or ExtractionConfig(), **overrides)
    if cfg.shard is None:
        shard, shard_source = shard_from_environment()
    else:
        shard, shard_source = parse_shard(cfg.shard), "--shard"
    if dataset is None:
        if annotations is None:
            raise ValueError("annotations are required")
        dataset = load_dataset(images, annotations, categories, split=split, fmt=fmt, background=background)
    if limit is not None:
        dataset = replace(dataset, images=dataset.images[:limit])
    if backbone is None:
        # a module:callable is probed at the size it will see (timm and torchvision bring their own)
        resize = cfg.resize or 224
        provisional = preprocessing or Preprocessing(resize=resize, crop=cfg.crop or resize,
                                                     mean=tuple(cfg.mean or IMAGENET_MEAN), std=tuple(cfg.std or IMAGENET_STD))
        backbone = load_backbone(cfg.arch, cfg.weights, random_init=cfg.random_init, seed=cfg.seed,
                                 preprocessing=provisional)
    elif isinstance(backbone, torch.nn.Module):
        backbone = from_module(backbone, preprocessing=preprocessing)
    elif preprocessing is not None:
        backbone = replace(backbone, preprocessing=preprocessing)
    warn_random_weights(backbone.notes)
    prep = resolve_preprocessing(backbone, cfg)
    device = resolve_device(cfg.device)
    feature_dim = backbone.feature_dim
    # map_shape: known from an earlier run of this folder, else from the first batch's output
    want_maps = cfg.store_maps and backbone.gives_map is not False

    store = FeatureStore(features_dir)
    feature_config = {
        "arch": backbone.arch, "weights": weights_fingerprint(backbone.weights),
        "preprocessing": prep.to_json(), "versions": cfg.versions, "feature_dim": feature_dim,
        "store_maps": cfg.store_maps,
    }
    if not want_maps:
        feature_config["map_shape"] = None  # decided now: no maps in any chunk of this folder
    manifest = store.prepare(feature_config, dataset, extra={
        "backbone": {"arch": backbone.arch, "weights": backbone.weights, "notes": backbone.notes,
                     "class": module_class_name(backbone.model), "state_dict_sha256": state_dict_sha256(backbone.model)},
        "version": __version__, "seed": cfg.seed})

    chunks = plan_chunks(shard_images(len(dataset.images), shard), cfg.chunk_size)
    prog = store.load_progress(shard, cfg.chunk_size, len(chunks))
    todo = [(cid, idx) for cid, idx in enumerate(chunks) if str(cid) not in prog["done"]]
    cat_index = {c: i for i, c in enumerate(dataset.categories)}
    items = [(i, dataset.images[i].path,
              [(cat_index[c], boxes) for c, boxes in dataset.images[i].boxes.items()])
             for _, idx in todo for i in idx]

    summary = {"features_dir": str(features_dir), "shard": f"{shard[0]}/{shard[1]}", "shard_source": shard_source,
               "map_shape": manifest["config"].get("map_shape"),
               "n_images_in_shard": sum(len(c) for c in chunks), "n_images_done_before": sum(len(chunks[int(c)]) for c in prog["done"]),
               "n_images_processed": 0, "n_tensors": 0, "failed": [], "device": str(device),
               "weights": backbone.weights, "notes": list(backbone.notes), "skipped": list(dataset.skipped),
               "cropped_out": []}  # (image, category) whose boxes lie outside the centre crop: no pair
    if not items:
        summary.update(seconds=0.0, images_per_s=None, tensors_per_s=None)
        if not prog.get("complete") and not chunks:  # an empty shard is complete by definition
            prog["complete"] = True
            write_json_atomic(store.progress_path(shard), prog)
        return summary

    model = backbone.model.to(device).eval()
    map_shape = tuple(manifest["config"]["map_shape"]) if manifest["config"].get("map_shape") else None
    map_known = "map_shape" in manifest["config"]
    loader = torch.utils.data.DataLoader(
        ImageVersionsDataset(items, prep, interventions=cfg.versions == "all", max_pixels=cfg.max_pixels,
                             box_masks=want_maps and (map_shape is not None or not map_known)),
        batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.num_workers,
        collate_fn=_as_list, pin_memory=device.type == "cuda",
        persistent_workers=False, prefetch_factor=4 if cfg.num_workers > 0 else None)

    chunk_of = {i: cid for cid, idx in todo for i in idx}
    open_chunks = {cid: _Chunk(cid, idx) for cid, idx in todo}
    bar = _progress_bar(len(items), progress, f"extract {backbone.arch}")
    t0 = time.perf_counter()
    n_tensors = 0
    try:
        with torch.inference_mode():
            for batch in loader:
                good = [b for b in batch if b[1] is not None]
                feats = maps = None
                if good:
                    stacked = torch.cat([b[1] for b in good])
                    originals = np.cumsum([0] + [len(b[1]) for b in good])[:-1]
                    feats, maps = _forward(backbone, stacked, prep, device, cfg.forward_batch,
                                           originals if want_maps else None)
                    check_features(feats[originals], stacked[originals], backbone)
                    n_tensors += len(stacked)
                    if want_maps and not map_known:  # first batch of a new folder: record what the maps are
                        map_shape = tuple(maps.shape[1:]) if maps is not None else None
                        store.record_map_shape(map_shape)
                        summary["map_shape"] = list(map_shape) if map_shape else None
                        map_known = True
                    elif want_maps and (None if maps is None else tuple(maps.shape[1:])) != map_shape:
                        raise BackboneError(f"backbone {backbone_name(backbone.arch, backbone.weights)} gives maps of "
                                            f"shape {None if maps is None else maps.shape[1:]}, but this features folder "
                                            f"holds maps of shape {map_shape}")
                row = n_good = 0
                for index, tensors, kept, error, cropped, masks in batch:
                    summary["cropped_out"] += [{"image": dataset.images[index].key,
                                                "category": dataset.categories[c]} for c in cropped]
                    chunk = open_chunks[chunk_of[index]]
                    chunk.pending.discard(index)
                    if tensors is None:
                        failure = {"image": dataset.images[index].key, "reason": error}
                        chunk.failed.append(failure)
                        summary["failed"].append(failure)
                    else:
                        chunk.image_index.append(index)
                        chunk.original.append(feats[row])
                        if maps is not None:
                            chunk.original_map.append(maps[n_good])
                        for j, cat in enumerate(kept):
                            chunk.pair_image.append(index)
                            chunk.pair_category.append(cat)
                            chunk.context.append(feats[row + 1 + 2 * j])
                            chunk.object.append(feats[row + 2 + 2 * j])
                        if map_shape:
                            chunk.coverage += list(cell_coverage(masks, map_shape[1:]).to(torch.float16).numpy())
                        row += len(tensors)
                        n_good += 1
                    if not chunk.pending:
                        store.commit_chunk(prog, shard, chunk.chunk_id, chunk.arrays(feature_dim, map_shape), chunk.failed,
                                           extra={"device": str(device), "version": __version__})
                        del open_chunks[chunk.chunk_id]
                summary["n_images_processed"] += len(batch)
                bar.update(len(batch))
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    summary.update(seconds=seconds, n_tensors=n_tensors,
                   images_per_s=summary["n_images_processed"] / seconds if seconds > 0 else None,
                   tensors_per_s=n_tensors / seconds if seconds > 0 else None)
    return summary


def _progress_bar(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="img", dynamic_ncols=True)


__all__ = ["ExtractionConfig", "ImageVersionsDataset", "extract_features", "image_versions", "resolve_device",
           "resolve_preprocessing"]
