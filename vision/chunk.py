"""One chunk of a features folder while it is being filled: the rows of its images, kept until
every image of the chunk is done, then written as one ``.npz`` (see :mod:`vision.store`)."""
from __future__ import annotations

import numpy as np


class ChunkBuffer:
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

    def add(self, index: int, rows: np.ndarray, kept: list[int], original_map: np.ndarray | None = None,
            coverage: np.ndarray | None = None) -> None:
        """One decoded image: ``rows`` are its features ``[original, context_1, object_1, ...]`` for the
        categories ``kept``; its map (C, h, w) and the pairs' box coverage (k, h, w), when kept."""
        self.image_index.append(index)
        self.original.append(rows[0])
        if original_map is not None:
            self.original_map.append(original_map)
        for j, cat in enumerate(kept):
            self.pair_image.append(index)
            self.pair_category.append(cat)
            self.context.append(rows[1 + 2 * j])
            self.object.append(rows[2 + 2 * j])
        if coverage is not None:
            self.coverage += list(coverage)

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
