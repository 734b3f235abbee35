"""Read object boxes from COCO instances JSON and PASCAL VOC XML into one in-memory form.

One reader per format (:mod:`~vision.annotations.coco`, :mod:`~vision.annotations.voc`) turns the
files into :class:`~vision.annotations.model.RawImage` records; :mod:`~vision.annotations.select`
picks the categories, clips the boxes and builds the :class:`Dataset` (:mod:`~vision.annotations.model`).
Every box ends up as ``(x, y, w, h)`` in continuous pixel coordinates of the stored image.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from vision.annotations.coco import read_coco
from vision.annotations.model import AnnotationError, Box, Dataset, ImageRecord, clip_box
from vision.annotations.select import build_dataset, choose_categories
from vision.annotations.voc import parse_voc_xml, read_voc, voc_box_to_xywh
from vision.categories import VOC_CATEGORIES


def detect_format(annotations: Sequence[Path]) -> str:
    """"coco" or "voc" from the paths (JSON files / XML files, or folders holding them)."""
    kinds = set()
    for a in annotations:
        if a.is_file():
            kinds.add("coco" if a.suffix.lower() == ".json" else "voc" if a.suffix.lower() == ".xml" else "?")
        elif a.is_dir():
            if (a / "Annotations").is_dir() or any(a.glob("*.xml")):
                kinds.add("voc")
            elif any(a.glob("*.json")):
                kinds.add("coco")
            else:
                kinds.add("?")
        else:
            raise AnnotationError(f"{a}: annotations path not found")
    if "?" in kinds:
        raise AnnotationError(f"{', '.join(map(str, annotations))}: cannot tell the format "
                              "(expected COCO *.json or VOC *.xml files)")
    if len(kinds) != 1:
        raise AnnotationError("annotations mix COCO JSON and VOC XML; pass one kind at a time")
    return kinds.pop()


def load_dataset(
    images: str | os.PathLike | None,
    annotations: str | os.PathLike | Iterable[str | os.PathLike],
    categories: str | Sequence[str] | None = None,
    *,
    split: str | None = None,
    fmt: str = "auto",
    background: bool = False,
) -> Dataset:
    """Read a COCO or VOC dataset and keep the images that contain a selected category.

    ``annotations``: a COCO JSON file, a folder of them (``instances_*.json``), several of
    those, a VOC root (with ``Annotations/``), a folder of VOC XML files, or one XML file.
    ``images``: the images folder (for COCO, images are looked up as ``images/file_name``,
    ``images/<split>/file_name`` where ``<split>`` comes from ``instances_<split>.json``, then by
    name anywhere below). ``categories``: see :func:`vision.categories.select_categories`.
    Images that are listed but missing on disk are skipped and recorded in ``Dataset.skipped``.
    ``background=True`` also keeps annotated images that contain none of the selected
    categories (with no boxes): they give the classifier and the NCC sample negatives.
    """
    ann_paths = [Path(annotations)] if isinstance(annotations, (str, os.PathLike)) else [Path(a) for a in annotations]
    if not ann_paths:
        raise AnnotationError("no annotations given")
    fmt = detect_format(ann_paths) if fmt == "auto" else fmt
    if fmt == "coco":
        raw, files = read_coco(images, ann_paths)
    elif fmt == "voc":
        raw, files = read_voc(images, ann_paths, split)
    else:
        raise AnnotationError(f"unknown annotation format {fmt!r} (expected auto, coco or voc)")
    chosen, all_cats = choose_categories(raw, categories, ann_paths)
    return build_dataset(fmt, raw, chosen, all_cats, files, background)


__all__ = ["AnnotationError", "Box", "Dataset", "ImageRecord", "VOC_CATEGORIES", "clip_box", "detect_format",
           "load_dataset", "parse_voc_xml", "voc_box_to_xywh"]
