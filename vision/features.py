"""A features folder read into memory for the analysis: the originals' features, the labels, and
the object/context ratio sums accumulated chunk by chunk."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from vision.annotations import Dataset
from vision.scores import RatioAccumulator
from vision.store import FeatureStore

#: Chunk arrays the ratios and the bootstrap read (the activation maps are read only for objectness).
FEATURE_KEYS = ("image_index", "original", "pair_image", "pair_category", "context_only", "object_only")


@dataclass
class LoadedFeatures:
    dataset: Dataset
    manifest: dict
    image_index: np.ndarray  # (N,) rows of dataset.images that decoded
    original: np.ndarray  # (N, D)
    ratios: RatioAccumulator
    failed: list[dict]

    def labels(self, categories: list[str] | None = None) -> np.ndarray:
        cats = categories or self.dataset.categories
        return np.array([[c in self.dataset.images[i].boxes for c in cats] for i in self.image_index],
                        dtype=np.int64).reshape(len(self.image_index), len(cats))


def load_features(features_dir: str | os.PathLike, with_ratios: bool = True) -> LoadedFeatures:
    """Read every chunk once: keep original features in memory, accumulate ratio sums on the fly."""
    store = FeatureStore(features_dir)
    manifest = store.manifest()
    dataset = store.dataset()
    dim = int(manifest["config"]["feature_dim"])
    acc = RatioAccumulator(len(dataset.categories), dim)
    idx, orig = [], []
    for chunk in store.iter_chunks(FEATURE_KEYS):
        idx.append(chunk["image_index"])
        orig.append(chunk["original"])
        if with_ratios:
            acc.add(chunk["image_index"], chunk["original"], chunk["pair_image"], chunk["pair_category"],
                    chunk["context_only"], chunk["object_only"])
    image_index = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    original = np.concatenate(orig).astype(np.float64) if orig else np.zeros((0, dim))
    order = np.argsort(image_index, kind="stable")
    return LoadedFeatures(dataset, manifest, image_index[order], original[order], acc, store.failed_images())
