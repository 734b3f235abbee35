"""The worker side of extraction: decode an image once, build its versions, resize and crop them.

Runs in DataLoader worker processes (so its items stay small and picklable): per image, the
original and, for each selected category present, the context-only and object-only versions (in
original pixel space), all resized and centre-cropped as uint8, plus the box masks of the kept
categories when the originals' maps are stored.
"""
from __future__ import annotations

import os
from typing import Sequence

import torch

from vision.annotations import Box
from vision.backbones import first_line
from vision.masks import box_coverage, box_pixel_span
from vision.preprocess import MAX_PIXELS, ImageTooLarge, Preprocessing, decode_image, resize_and_crop


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
            reason = "image file not found" if not os.path.exists(path) else f"cannot decode image ({first_line(exc)})"
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


def as_list(batch):
    """DataLoader collate: keep the items as they are (their tensors differ in size)."""
    return batch
