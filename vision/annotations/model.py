"""The in-memory form every annotation reader produces: images, their boxes, and what was left out.

Every box is ``(x, y, w, h)`` in continuous pixel coordinates of the stored image: the top-left
corner of pixel (row r, column c) is (c, r). COCO already uses that convention; VOC boxes are
1-based and inclusive, so the VOC reader converts them (:func:`vision.annotations.voc.voc_box_to_xywh`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Box = tuple[float, float, float, float]


class AnnotationError(ValueError):
    """An annotation file cannot be used; the message names the file and what is wrong."""


@dataclass
class ImageRecord:
    """One image and the boxes of the categories we analyse (clipped, non-empty)."""

    key: str  # unique, stable name: the image path relative to the images folder
    path: str  # absolute path of the image file
    width: int | None  # size declared by the annotations (None if not declared)
    height: int | None
    boxes: dict[str, list[Box]] = field(default_factory=dict)  # canonical category -> boxes


@dataclass
class Dataset:
    """Images with at least one selected category, plus what was left out and why."""

    format: str  # "coco" or "voc"
    images: list[ImageRecord]
    categories: list[str]  # selected categories, in analysis order
    all_categories: list[str]  # every category the annotations mention (canonical names)
    skipped: list[dict]  # {"image": ..., "reason": ...}: missing files etc.
    annotation_files: list[str]
    n_without_selected: int = 0  # annotated images that contain none of the selected categories
    n_zero_area_boxes: int = 0
    background: bool = False  # images without a selected category were kept (as negatives)

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "categories": self.categories,
            "all_categories": self.all_categories,
            "skipped": self.skipped,
            "annotation_files": self.annotation_files,
            "n_without_selected": self.n_without_selected,
            "n_zero_area_boxes": self.n_zero_area_boxes,
            "background": self.background,
            "images": [
                {"key": r.key, "path": r.path, "width": r.width, "height": r.height,
                 "boxes": {c: [list(b) for b in bs] for c, bs in r.boxes.items()}}
                for r in self.images
            ],
        }

    @classmethod
    def from_json(cls, d: dict) -> "Dataset":
        images = [
            ImageRecord(key=r["key"], path=r["path"], width=r["width"], height=r["height"],
                        boxes={c: [tuple(map(float, b)) for b in bs] for c, bs in r["boxes"].items()})
            for r in d["images"]
        ]
        return cls(format=d["format"], images=images, categories=list(d["categories"]),
                   all_categories=list(d["all_categories"]), skipped=list(d["skipped"]),
                   annotation_files=list(d["annotation_files"]),
                   n_without_selected=int(d.get("n_without_selected", 0)),
                   n_zero_area_boxes=int(d.get("n_zero_area_boxes", 0)),
                   background=bool(d.get("background", False)))


@dataclass
class RawImage:
    """What a reader found for one annotated image, before categories are selected and boxes clipped."""

    key: str  # the image path relative to the images folder (or the name the annotations give)
    found: Path | Refused | None  # the resolved file, a refusal with its reason, or None: missing
    width: int | None
    height: int | None
    objects: list[tuple[str, Box]]  # (canonical category, unclipped box)


class Refused:
    """Stands for an image path that is not used, with the reason (listed in ``Dataset.skipped``)."""

    def __init__(self, reason: str):
        self.reason = reason


def inside(root: Path, candidate: Path) -> Path | Refused | None:
    """``candidate`` resolved (after symlinks) if it is a regular file inside ``root`` (resolved);
    a :class:`Refused` when it escapes ``root`` or is not a regular file; None when missing.

    Annotation files are data from anywhere: "../../secret.png" or "/etc/passwd" must never be
    read, and a FIFO or a device would hang the decoder."""
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        return Refused(f"image path {str(candidate)!r} is outside the images folder {str(root)!r}")
    if not resolved.exists():
        return None
    if not resolved.is_file():
        return Refused(f"{str(candidate)!r} is not a regular file")
    return resolved


def number(value, what: str, path: Path) -> float:
    """A finite float from an annotation field, else an AnnotationError naming the file and field."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise AnnotationError(f"{path}: {what} is not a number ({value!r})") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise AnnotationError(f"{path}: {what} is not finite ({value!r})")
    return out


def clip_box(box: Box, width: int | None, height: int | None) -> Box | None:
    """Clip a box to the image (if its size is known); ``None`` if nothing of it is left."""
    x, y, w, h = box
    x0, y0, x1, y1 = x, y, x + w, y + h
    if width is not None and height is not None and width > 0 and height > 0:
        x0, y0 = max(x0, 0.0), max(y0, 0.0)
        x1, y1 = min(x1, float(width)), min(y1, float(height))
    if not (x1 > x0 and y1 > y0):
        return None
    if (x0, y0, x1, y1) == (x, y, x + w, y + h):
        return (float(x), float(y), float(w), float(h))  # untouched: keep the exact numbers (x+w-x may not be w)
    return (x0, y0, x1 - x0, y1 - y0)


def relative_key(found: Path | Refused | None, root: Path, fallback: str) -> str:
    """The image's key: its path below the images folder, or ``fallback`` when it was not found."""
    return str(found.relative_to(root)) if isinstance(found, Path) else fallback
