"""The two interventions of the paper, done in the original pixel space of the stored image.

A box ``(x, y, w, h)`` covers pixel rows ``floor(y) … ceil(y + h) − 1`` and columns
``floor(x) … ceil(x + w) − 1``, clipped to the image: every pixel the box touches, even partly,
counts as object. Images are ``(C, H, W)`` tensors (or anything sliced the same way).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from vision.annotations import Box


def box_pixel_span(box: Box, height: int, width: int) -> tuple[int, int, int, int] | None:
    """``(row0, row1, col0, col1)``, end-exclusive, of the pixels a box touches; ``None`` if none."""
    x, y, w, h = box
    r0, r1 = max(0, math.floor(y)), min(height, math.ceil(y + h))
    c0, c1 = max(0, math.floor(x)), min(width, math.ceil(x + w))
    if r1 <= r0 or c1 <= c0:
        return None
    return r0, r1, c0, c1


def boxes_mask(boxes: Iterable[Box], height: int, width: int) -> torch.Tensor:
    """Boolean ``(H, W)`` mask, True on the pixels touched by any of the boxes."""
    mask = torch.zeros((height, width), dtype=torch.bool)
    for box in boxes:
        span = box_pixel_span(box, height, width)
        if span is not None:
            r0, r1, c0, c1 = span
            mask[r0:r1, c0:c1] = True
    return mask


def context_only(image: torch.Tensor, boxes: Iterable[Box]) -> torch.Tensor:
    """x^c: a copy of ``image`` with every pixel inside the boxes set to black (0)."""
    out = image.clone()
    height, width = image.shape[-2:]
    for box in boxes:
        span = box_pixel_span(box, height, width)
        if span is not None:
            r0, r1, c0, c1 = span
            out[..., r0:r1, c0:c1] = 0
    return out


def object_only(image: torch.Tensor, boxes: Iterable[Box]) -> torch.Tensor:
    """x^o: a copy of ``image`` with every pixel outside the boxes set to black (0)."""
    out = torch.zeros_like(image)
    height, width = image.shape[-2:]
    for box in boxes:
        span = box_pixel_span(box, height, width)
        if span is not None:
            r0, r1, c0, c1 = span
            out[..., r0:r1, c0:c1] = image[..., r0:r1, c0:c1]
    return out


def box_coverage(boxes: Iterable[Box], height: int, width: int,
                 resize_and_crop: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """The boxes' mask after the image's own resize and crop: ``float32 (S, S)`` in [0, 1].

    Built at the decoded resolution (the pixels of :func:`box_pixel_span`, as for the
    interventions) and sent through ``resize_and_crop`` as floats, so the antialiased resize
    averages it exactly as it averages the pixels (edge pixels get fractional values)."""
    mask = boxes_mask(boxes, height, width).to(torch.float32)[None]  # (1, H, W): one "channel"
    return resize_and_crop(mask)[0].clamp_(0.0, 1.0)


def cell_coverage(masks: torch.Tensor, map_hw: tuple[int, int]) -> torch.Tensor:
    """``(k, S, S)`` crop masks -> ``(k, h, w)``: the fraction of each cell of an (h, w) feature map
    they cover (adaptive average pooling: cell ``i`` of ``h`` spans crop rows
    ``floor(i*S/h) … ceil((i+1)*S/h) − 1``, the usual partition when S is not a multiple of h)."""
    if len(masks) == 0:
        return torch.zeros((0, *map_hw), dtype=torch.float32)
    cells = torch.nn.functional.adaptive_avg_pool2d(masks.to(torch.float32)[None], tuple(map_hw))[0]
    return cells.clamp_(0.0, 1.0)
