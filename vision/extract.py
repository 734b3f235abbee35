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
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import torch

from ncc._version import __version__
from vision._io import write_json_atomic
from vision.annotations import Dataset, load_dataset
from vision.backbones import (
    Backbone,
    BackboneError,
    from_module,
    load_backbone,
    module_class_name,
    state_dict_sha256,
    warn_random_weights,
)
from vision.chunk import ChunkBuffer
from vision.device import check_device_spec, resolve_device
from vision.forward import backbone_name, check_features, forward_batch
from vision.masks import cell_coverage
from vision.preprocess import IMAGENET_MEAN, IMAGENET_STD, MAX_PIXELS, Preprocessing
from vision.store import FeatureStore, parse_shard, plan_chunks, shard_from_environment, shard_images
from vision.versions import ImageVersionsDataset, as_list, drop_cropped_out, image_versions


@dataclass
class ExtractionConfig:
    arch: str = "resnet18"  # the paper's backbone; or timm:NAME, or package.module:callable
    # torchvision enum name (DEFAULT, IMAGENET1K_V1, ...), timm's "pretrained", or checkpoint path
    weights: str | None = None
    random_init: bool = False  # explicit opt-in to random weights (tests, timing), never silent
    # shorter side after resizing; None: the backbone's own (timm's input size), else the paper's 224
    resize: int | None = None
    crop: int | None = None  # centre-crop size; None = same as resize, as in the paper
    # normalisation; None: the backbone's (torchvision/timm weights, else ImageNet)
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    # keep the originals' last maps + box coverage (objectness); ~5 GB per 100k images at 512x7x7
    store_maps: bool = True
    versions: str = "all"  # "all": original + context-only + object-only; "original": classifier training sets
    batch_size: int = 16  # images per DataLoader batch
    forward_batch: int = 64  # tensors per forward pass: bounds activation memory whatever the categories per image
    num_workers: int = 2  # decoding, masking and resizing run in these processes, off the forward path
    device: str = "auto"  # auto = cuda when available; cpu, cuda or cuda:N (see vision.device)
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
        check_device_spec(self.device)


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
    shard, shard_source = _shard(cfg)
    if dataset is None:
        if annotations is None:
            raise ValueError("annotations are required")
        dataset = load_dataset(images, annotations, categories, split=split, fmt=fmt, background=background)
    dataset = dataset if limit is None else replace(dataset, images=dataset.images[:limit])
    backbone = _backbone(backbone, cfg, preprocessing)
    warn_random_weights(backbone.notes)
    prep = resolve_preprocessing(backbone, cfg)
    device = resolve_device(cfg.device)
    store = FeatureStore(features_dir)
    want_maps = cfg.store_maps and backbone.gives_map is not False  # the map shape: from a first run's output
    manifest = _prepare_store(store, backbone, prep, cfg, dataset, want_maps)

    chunks = plan_chunks(shard_images(len(dataset.images), shard), cfg.chunk_size)
    prog = store.load_progress(shard, cfg.chunk_size, len(chunks))
    todo = [(cid, idx) for cid, idx in enumerate(chunks) if str(cid) not in prog["done"]]  # resume: skip done
    summary = _initial_summary(features_dir, shard, shard_source, manifest, chunks, prog, device, backbone, dataset)
    if not todo:
        return _nothing_to_do(store, shard, prog, chunks, summary)

    map_shape = tuple(manifest["config"]["map_shape"]) if manifest["config"].get("map_shape") else None
    run = _Pass(dataset=dataset, backbone=backbone, prep=prep, device=device, cfg=cfg, store=store, prog=prog,
                shard=shard, summary=summary, want_maps=want_maps, map_shape=map_shape,
                map_known="map_shape" in manifest["config"], todo=todo)
    t0 = time.perf_counter()
    run.run(progress)
    seconds = time.perf_counter() - t0
    rate = (lambda n: n / seconds if seconds > 0 else None)
    summary.update(seconds=seconds, n_tensors=run.n_tensors, images_per_s=rate(summary["n_images_processed"]),
                   tensors_per_s=rate(run.n_tensors))
    return summary


def _initial_summary(features_dir, shard: tuple[int, int], shard_source: str, manifest: dict,
                     chunks: list[list[int]], prog: dict, device: torch.device, backbone: Backbone,
                     dataset: Dataset) -> dict:
    """The summary before any image is processed (counts and timing are filled in as the pass runs)."""
    return {"features_dir": str(features_dir), "shard": f"{shard[0]}/{shard[1]}", "shard_source": shard_source,
            "map_shape": manifest["config"].get("map_shape"),
            "n_images_in_shard": sum(len(c) for c in chunks),
            "n_images_done_before": sum(len(chunks[int(c)]) for c in prog["done"]),
            "n_images_processed": 0, "n_tensors": 0, "failed": [], "device": str(device),
            "weights": backbone.weights, "notes": list(backbone.notes), "skipped": list(dataset.skipped),
            "cropped_out": []}  # (image, category) whose boxes lie outside the centre crop: no pair


def _nothing_to_do(store: FeatureStore, shard: tuple[int, int], prog: dict, chunks: list, summary: dict) -> dict:
    summary.update(seconds=0.0, images_per_s=None, tensors_per_s=None)
    if not prog.get("complete") and not chunks:  # an empty shard is complete by definition
        prog["complete"] = True
        write_json_atomic(store.progress_path(shard), prog)
    return summary


def _shard(cfg: ExtractionConfig) -> tuple[tuple[int, int], str]:
    """(K, N) of this process, and where it came from."""
    if cfg.shard is None:
        return shard_from_environment()
    return parse_shard(cfg.shard), "--shard"


def _backbone(backbone: "Backbone | torch.nn.Module | None", cfg: ExtractionConfig,
              preprocessing: Preprocessing | None) -> Backbone:
    """The given backbone (a bare module wrapped), else the one the config names."""
    if backbone is None:
        # a module:callable is probed at the size it will see (timm and torchvision bring their own)
        resize = cfg.resize or 224
        provisional = preprocessing or Preprocessing(resize=resize, crop=cfg.crop or resize,
                                                     mean=tuple(cfg.mean or IMAGENET_MEAN),
                                                     std=tuple(cfg.std or IMAGENET_STD))
        return load_backbone(cfg.arch, cfg.weights, random_init=cfg.random_init, seed=cfg.seed,
                             preprocessing=provisional)
    if isinstance(backbone, torch.nn.Module):
        return from_module(backbone, preprocessing=preprocessing)
    if preprocessing is not None:
        return replace(backbone, preprocessing=preprocessing)
    return backbone


def _prepare_store(store: FeatureStore, backbone: Backbone, prep: Preprocessing, cfg: ExtractionConfig,
                   dataset: Dataset, want_maps: bool) -> dict:
    """Create or check the folder's manifest: a rerun must extract the same features."""
    feature_config = {
        "arch": backbone.arch, "weights": weights_fingerprint(backbone.weights),
        "preprocessing": prep.to_json(), "versions": cfg.versions, "feature_dim": backbone.feature_dim,
        "store_maps": cfg.store_maps,
    }
    if not want_maps:
        feature_config["map_shape"] = None  # decided now: no maps in any chunk of this folder
    return store.prepare(feature_config, dataset, extra={
        "backbone": {"arch": backbone.arch, "weights": backbone.weights, "notes": backbone.notes,
                     "class": module_class_name(backbone.model),
                     "state_dict_sha256": state_dict_sha256(backbone.model)},
        "version": __version__, "seed": cfg.seed})


@dataclass
class _Pass:
    """One pass over the chunks still to do: batches in, features out, each chunk written when complete."""

    dataset: Dataset
    backbone: Backbone
    prep: Preprocessing
    device: torch.device
    cfg: ExtractionConfig
    store: FeatureStore
    prog: dict
    shard: tuple[int, int]
    summary: dict
    want_maps: bool
    map_shape: tuple[int, int, int] | None  # of the stored maps; None: no maps (or not known yet)
    map_known: bool  # whether map_shape is decided for this folder
    todo: list[tuple[int, list[int]]]  # (chunk id, image indices)
    n_tensors: int = 0
    open_chunks: dict[int, ChunkBuffer] = field(default_factory=dict)
    chunk_of: dict[int, int] = field(default_factory=dict)

    def run(self, progress: bool) -> None:
        cat_index = {c: i for i, c in enumerate(self.dataset.categories)}
        items = [(i, self.dataset.images[i].path,
                  [(cat_index[c], boxes) for c, boxes in self.dataset.images[i].boxes.items()])
                 for _, idx in self.todo for i in idx]
        self.chunk_of = {i: cid for cid, idx in self.todo for i in idx}
        self.open_chunks = {cid: ChunkBuffer(cid, idx) for cid, idx in self.todo}
        self.backbone.model.to(self.device).eval()  # in place: forward_batch runs backbone.model
        bar = _progress_bar(len(items), progress, f"extract {self.backbone.arch}")
        try:
            with torch.inference_mode():
                for batch in self._loader(items):
                    feats, maps = self._forward(batch)
                    self._file(batch, feats, maps)
                    self.summary["n_images_processed"] += len(batch)
                    bar.update(len(batch))
        finally:
            bar.close()

    def _loader(self, items: list) -> torch.utils.data.DataLoader:
        cfg = self.cfg
        return torch.utils.data.DataLoader(
            ImageVersionsDataset(items, self.prep, interventions=cfg.versions == "all", max_pixels=cfg.max_pixels,
                                 box_masks=self.want_maps and (self.map_shape is not None or not self.map_known)),
            batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.num_workers,
            collate_fn=as_list, pin_memory=self.device.type == "cuda",
            persistent_workers=False, prefetch_factor=4 if cfg.num_workers > 0 else None)

    def _forward(self, batch: list) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Features of every tensor of the batch's decoded images, and the originals' maps."""
        good = [b for b in batch if b[1] is not None]
        if not good:
            return None, None
        stacked = torch.cat([b[1] for b in good])
        originals = np.cumsum([0] + [len(b[1]) for b in good])[:-1]
        feats, maps = forward_batch(self.backbone, stacked, self.prep, self.device, self.cfg.forward_batch,
                                    originals if self.want_maps else None)
        check_features(feats[originals], stacked[originals], self.backbone)
        self.n_tensors += len(stacked)
        shape = None if maps is None else tuple(maps.shape[1:])
        if self.want_maps and not self.map_known:  # first batch of a new folder: record what the maps are
            self.map_shape = shape
            self.store.record_map_shape(shape)
            self.summary["map_shape"] = list(shape) if shape else None
            self.map_known = True
        elif self.want_maps and shape != self.map_shape:
            raise BackboneError(f"backbone {backbone_name(self.backbone.arch, self.backbone.weights)} gives maps of "
                                f"shape {None if maps is None else maps.shape[1:]}, but this features folder "
                                f"holds maps of shape {self.map_shape}")
        return feats, maps

    def _file(self, batch: list, feats: np.ndarray | None, maps: np.ndarray | None) -> None:
        """Put each image's rows into its chunk; write every chunk whose last image this was."""
        row = n_good = 0
        for index, tensors, kept, error, cropped, masks in batch:
            key = self.dataset.images[index].key
            self.summary["cropped_out"] += [{"image": key, "category": self.dataset.categories[c]} for c in cropped]
            chunk = self.open_chunks[self.chunk_of[index]]
            chunk.pending.discard(index)
            if tensors is None:
                failure = {"image": key, "reason": error}
                chunk.failed.append(failure)
                self.summary["failed"].append(failure)
            else:
                coverage = (cell_coverage(masks, self.map_shape[1:]).to(torch.float16).numpy()
                            if self.map_shape else None)
                chunk.add(index, feats[row:row + len(tensors)], kept,
                          maps[n_good] if maps is not None else None, coverage)
                row += len(tensors)
                n_good += 1
            if not chunk.pending:
                self.store.commit_chunk(self.prog, self.shard, chunk.chunk_id,
                                        chunk.arrays(self.backbone.feature_dim, self.map_shape), chunk.failed,
                                        extra={"device": str(self.device), "version": __version__})
                del self.open_chunks[chunk.chunk_id]


def _progress_bar(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="img", dynamic_ncols=True)


__all__ = ["ExtractionConfig", "ImageVersionsDataset", "backbone_name", "check_features", "drop_cropped_out",
           "extract_features", "image_versions", "resolve_device", "resolve_preprocessing"]
