"""From what the readers found to a :class:`Dataset`: selected categories, clipped boxes, skipped images."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from vision.annotations.model import AnnotationError, Box, Dataset, ImageRecord, RawImage, Refused, clip_box
from vision.categories import select_categories


def choose_categories(raw: list[RawImage], categories: str | Sequence[str] | None,
                      ann_paths: Sequence[Path]) -> tuple[list[str], list[str]]:
    """``(chosen, all)``: the selected categories and every category the annotations mention."""
    all_cats = sorted({c for r in raw for c, _ in r.objects})
    try:
        chosen = select_categories(categories, all_cats)
    except ValueError as exc:
        raise AnnotationError(str(exc)) from None
    if not chosen:
        where = ", ".join(map(str, ann_paths))
        has = ", ".join(all_cats[:20]) or "no objects"
        raise AnnotationError(
            f"none of the 20 PASCAL VOC categories occurs in {where} (it has: {has}); "
            "pass --categories all, or name the categories with --categories NAME,NAME")
    return chosen, all_cats


def _selected_boxes(image: RawImage, chosen: set[str]) -> tuple[dict[str, list[Box]], int]:
    """The image's boxes of the chosen categories, clipped, and how many clipped to nothing."""
    boxes: dict[str, list[Box]] = {}
    n_zero = 0
    for cat, box in image.objects:
        if cat not in chosen:
            continue
        clipped = clip_box(box, image.width, image.height)
        if clipped is None:
            n_zero += 1
            continue
        boxes.setdefault(cat, []).append(clipped)
    return boxes, n_zero


def build_dataset(fmt: str, raw: list[RawImage], chosen: list[str], all_cats: list[str], files: list[Path],
                  background: bool) -> Dataset:
    """Keep the images with a chosen category (all of them with ``background``) whose file is there."""
    chosen_set = set(chosen)
    records: dict[str, ImageRecord] = {}
    skipped: list[dict] = []
    n_without = n_zero = 0
    for image in raw:
        boxes, zero = _selected_boxes(image, chosen_set)
        n_zero += zero
        if not boxes:
            n_without += 1
            if not background:
                continue
        found = image.found
        if found is None or isinstance(found, Refused):
            reason = found.reason if found is not None else "image file not found"
            skipped.append({"image": image.key, "reason": reason})
            continue
        if image.key in records:
            raise AnnotationError(f"image {image.key} is annotated twice (in several annotation files?)")
        ordered = {c: boxes[c] for c in chosen if c in boxes}
        records[image.key] = ImageRecord(key=image.key, path=str(found.resolve()), width=image.width,
                                         height=image.height, boxes=ordered)
    if not any(r.boxes for r in records.values()):
        raise AnnotationError(
            f"no usable image: {len(skipped)} listed images are missing and {n_without} contain none of the "
            f"categories {', '.join(chosen)}")
    return Dataset(format=fmt, images=[records[k] for k in sorted(records)], categories=chosen,
                   all_categories=all_cats, skipped=skipped,
                   annotation_files=[str(p) for p in files], n_without_selected=n_without,
                   n_zero_area_boxes=n_zero, background=background)
