"""Read object boxes from COCO instances JSON and PASCAL VOC XML into one in-memory form.

Every box ends up as ``(x, y, w, h)`` in continuous pixel coordinates of the stored image: the
top-left corner of pixel (row r, column c) is (c, r). COCO already uses that convention; VOC
boxes are 1-based and inclusive, so they are converted by :func:`voc_box_to_xywh`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from vision.categories import VOC_CATEGORIES, canonical_name, select_categories

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                    ".JPG", ".JPEG", ".PNG")

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


# --------------------------------------------------------------------------- boxes

def voc_box_to_xywh(xmin: float, ymin: float, xmax: float, ymax: float) -> Box:
    """VOC's 1-based inclusive corners -> 0-based ``(x, y, w, h)``.

    VOC pixel i (1-based) is our pixel i-1, covering [i-1, i). A box over pixels xmin..xmax
    therefore starts at xmin-1 and is xmax-xmin+1 wide.
    """
    return (xmin - 1.0, ymin - 1.0, xmax - xmin + 1.0, ymax - ymin + 1.0)


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


# --------------------------------------------------------------------------- COCO

def _coco_split(json_path: Path) -> str:
    stem = json_path.stem
    return stem[len("instances_"):] if stem.startswith("instances_") else stem


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


class _ImageFinder:
    """Find an image by file name: ``root/name``, ``root/<split>/name``, else a unique match below root.

    The any-depth search is skipped when ``root/<split>`` exists (the layout is then explicit, and a
    same-named file of another split must not stand in for a missing one), and it only accepts a
    file name that occurs once in the tree.
    """

    def __init__(self, root: Path):
        self.root = root
        self._index: dict[str, str | None] | None = None

    def find(self, name: str, split: str | None = None) -> Path | Refused | None:
        candidates = [self.root / name]
        if split:
            candidates.append(self.root / split / name)
        for c in candidates:
            found = inside(self.root, c)
            if found is not None:
                return found
        if split and (self.root / split).is_dir():
            return None
        if self._index is None:  # built once, only when the direct guesses fail
            self._index = {}
            for dirpath, _, files in os.walk(self.root):
                for f in files:
                    self._index[f] = None if f in self._index else os.path.join(dirpath, f)
        hit = self._index.get(os.path.basename(name))
        return inside(self.root, Path(hit)) if hit else None


def _num(value, what: str, path: Path) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise AnnotationError(f"{path}: {what} is not a number ({value!r})") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise AnnotationError(f"{path}: {what} is not finite ({value!r})")
    return out


def _check_id(value, what: str, path: Path) -> None:
    """COCO ids are integers (some tools write strings); anything else cannot be matched up."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AnnotationError(f"{path}: {what} id {value!r} is not an integer or a string")


def parse_coco(json_path: Path, finder: _ImageFinder):
    """Yield ``(key, path_or_None, width, height, [(category, box), ...])`` per image of a COCO file."""
    try:
        with open(json_path, "rb") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{json_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise AnnotationError(f"{json_path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise AnnotationError(f"{json_path}: not a COCO instances file (needs lists 'images', 'annotations', 'categories')")
    cats: dict = {}
    for c in data["categories"]:
        try:
            cid, cname = c["id"], canonical_name(str(c["name"]))
        except (KeyError, TypeError):
            raise AnnotationError(f"{json_path}: a category lacks 'id' or 'name'") from None
        _check_id(cid, "category", json_path)
        if cid in cats:  # a later entry would silently rename every object of the first
            raise AnnotationError(f"{json_path}: category id {cid!r} is listed twice ({cats[cid]!r} and {cname!r})")
        cats[cid] = cname
    split = _coco_split(json_path)
    images: dict = {}
    for im in data["images"]:
        try:
            iid, name = im["id"], str(im["file_name"])
        except (KeyError, TypeError):
            raise AnnotationError(f"{json_path}: an image entry lacks 'id' or 'file_name'") from None
        _check_id(iid, "image", json_path)
        if iid in images:  # a later entry would silently replace the first image
            raise AnnotationError(f"{json_path}: image id {iid!r} is listed twice ({images[iid][0]!r} and {name!r})")
        w, h = im.get("width"), im.get("height")
        w = int(_num(w, f"width of image {iid}", json_path)) if w is not None else None
        h = int(_num(h, f"height of image {iid}", json_path)) if h is not None else None
        images[iid] = (name, w, h, [])
    for ann in data["annotations"]:
        try:
            iid, cid, bbox = ann["image_id"], ann["category_id"], ann["bbox"]
        except (KeyError, TypeError):
            raise AnnotationError(f"{json_path}: annotation {ann.get('id', '?') if isinstance(ann, dict) else '?'} lacks 'image_id', 'category_id' or 'bbox'") from None
        _check_id(iid, f"image (in annotation {ann.get('id', '?')})", json_path)
        _check_id(cid, f"category (in annotation {ann.get('id', '?')})", json_path)
        if iid not in images:
            raise AnnotationError(f"{json_path}: annotation {ann.get('id', '?')} refers to unknown image id {iid}")
        if cid not in cats:
            raise AnnotationError(f"{json_path}: annotation {ann.get('id', '?')} refers to unknown category id {cid}")
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise AnnotationError(f"{json_path}: annotation {ann.get('id', '?')} has bbox {bbox!r}, expected [x, y, width, height]")
        box = tuple(_num(v, f"bbox of annotation {ann.get('id', '?')}", json_path) for v in bbox)
        images[iid][3].append((cats[cid], box))
    for iid, (name, w, h, objs) in images.items():
        found = finder.find(name, split)
        key = str(found.relative_to(finder.root)) if isinstance(found, Path) else f"{split}/{name}"
        yield key, found, w, h, objs


# --------------------------------------------------------------------------- VOC

def parse_voc_xml(xml_path: Path) -> tuple[str | None, int | None, int | None, list[tuple[str, Box]]]:
    """Parse one VOC XML file with defusedxml: ``(filename, width, height, [(category, box)])``."""
    try:
        root = SafeET.parse(str(xml_path)).getroot()
    except DefusedXmlException as exc:
        raise AnnotationError(f"{xml_path}: refused unsafe XML ({type(exc).__name__}: entity declarations or external references are not allowed)") from None
    except SafeET.ParseError as exc:
        raise AnnotationError(f"{xml_path}: malformed XML ({exc})") from None
    except OSError as exc:
        raise AnnotationError(f"{xml_path}: cannot read ({exc.strerror})") from None
    if root.tag != "annotation":
        raise AnnotationError(f"{xml_path}: root element is <{root.tag}>, expected <annotation>")
    filename = (root.findtext("filename") or "").strip() or None
    width = height = None
    size = root.find("size")
    if size is not None:
        w, h = size.findtext("width"), size.findtext("height")
        if w is not None and h is not None and w.strip() and h.strip():
            width = int(_num(w, "size/width", xml_path))
            height = int(_num(h, "size/height", xml_path))
            if width <= 0 or height <= 0:  # some tools write 0: treat as "not declared"
                width = height = None
    objects = []
    for i, obj in enumerate(root.findall("object")):
        name = obj.findtext("name")
        if name is None or not name.strip():
            raise AnnotationError(f"{xml_path}: object {i + 1} has no <name>")
        bb = obj.find("bndbox")
        if bb is None:
            raise AnnotationError(f"{xml_path}: object {i + 1} ({name.strip()}) has no <bndbox>")
        corners = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            text = bb.findtext(tag)
            if text is None:
                raise AnnotationError(f"{xml_path}: object {i + 1} ({name.strip()}) has no <{tag}>")
            corners.append(_num(text.strip(), f"object {i + 1} <{tag}>", xml_path))
        objects.append((canonical_name(name), voc_box_to_xywh(*corners)))
    return filename, width, height, objects


def _voc_files(annotations: Path, split: str | None) -> tuple[list[Path], Path | None]:
    """The XML files to read, and the VOC root (folder holding Annotations/) if there is one."""
    if annotations.is_file():
        return [annotations], None
    root = annotations if (annotations / "Annotations").is_dir() else None
    xml_dir = annotations / "Annotations" if root is not None else annotations
    if root is None and annotations.name == "Annotations":
        root = annotations.parent
    if split:
        if root is None:
            raise AnnotationError(f"{annotations}: --split needs a VOC root with ImageSets/Main/ and Annotations/")
        listing = root / "ImageSets" / "Main" / f"{split}.txt"
        if not listing.is_file():
            raise AnnotationError(f"{listing}: split file not found")
        ids = [line.split()[0] for line in listing.read_text().splitlines() if line.strip()]
        return [xml_dir / f"{i}.xml" for i in ids], root
    return sorted(xml_dir.glob("*.xml")), root


def _voc_image_path(images_dir: Path, filename: str | None, xml_path: Path) -> Path | Refused | None:
    names = [filename] if filename else []
    names += [xml_path.stem + ext for ext in IMAGE_EXTENSIONS]
    for n in names:
        found = inside(images_dir, images_dir / n)
        if found is not None:
            return found  # a refused <filename> is reported, not replaced by a guess
    return None


# --------------------------------------------------------------------------- entry point

def detect_format(annotations: Sequence[Path]) -> str:
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
        raise AnnotationError(f"{', '.join(map(str, annotations))}: cannot tell the format (expected COCO *.json or VOC *.xml files)")
    if len(kinds) != 1:
        raise AnnotationError("annotations mix COCO JSON and VOC XML; pass one kind at a time")
    return kinds.pop()


def _coco_files(annotations: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for a in annotations:
        if a.is_dir():
            found = sorted(a.glob("instances_*.json")) or sorted(a.glob("*.json"))
            files.extend(found)
        else:
            files.append(a)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    if not unique:
        raise AnnotationError(f"{', '.join(map(str, annotations))}: no COCO *.json file found")
    return unique


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
    raw: list[tuple[str, Path | None, int | None, int | None, list]] = []
    if fmt == "coco":
        if images is None:
            raise AnnotationError("COCO annotations need --images (the images folder)")
        images_dir = Path(images)
        if not images_dir.is_dir():
            raise AnnotationError(f"{images_dir}: images folder not found")
        files = _coco_files(ann_paths)
        finder = _ImageFinder(images_dir.resolve())
        for f in files:
            raw.extend(parse_coco(f, finder))
    elif fmt == "voc":
        files = []
        roots = []
        for a in ann_paths:
            fs, root = _voc_files(a, split)
            files.extend(fs)
            roots.append(root)
        if images is not None:
            images_dir = Path(images)
            if (images_dir / "JPEGImages").is_dir():
                images_dir = images_dir / "JPEGImages"
        elif roots and roots[0] is not None and (roots[0] / "JPEGImages").is_dir():
            images_dir = roots[0] / "JPEGImages"
        else:
            raise AnnotationError("VOC annotations need --images (the images folder) unless they sit in a VOC root with JPEGImages/")
        if not images_dir.is_dir():
            raise AnnotationError(f"{images_dir}: images folder not found")
        images_dir = images_dir.resolve()
        if not files:
            raise AnnotationError(f"{', '.join(map(str, ann_paths))}: no VOC *.xml file found")
        for xml in files:
            if not xml.is_file():
                raise AnnotationError(f"{xml}: annotation file listed in the split but not found")
            filename, w, h, objs = parse_voc_xml(xml)
            found = _voc_image_path(images_dir, filename, xml)
            key = str(found.relative_to(images_dir)) if isinstance(found, Path) else (filename or xml.stem)
            raw.append((key, found, w, h, objs))
        files = [p.resolve() for p in files]
    else:
        raise AnnotationError(f"unknown annotation format {fmt!r} (expected auto, coco or voc)")

    all_cats = sorted({c for *_, objs in raw for c, _ in objs})
    try:
        chosen = select_categories(categories, all_cats)
    except ValueError as exc:
        raise AnnotationError(str(exc)) from None
    if not chosen:
        where = ", ".join(map(str, ann_paths))
        raise AnnotationError(
            f"none of the 20 PASCAL VOC categories occurs in {where} (it has: {', '.join(all_cats[:20]) or 'no objects'}); "
            "pass --categories all, or name the categories with --categories NAME,NAME")
    chosen_set = set(chosen)

    records: dict[str, ImageRecord] = {}
    skipped: list[dict] = []
    n_without = n_zero = 0
    for key, found, w, h, objs in raw:
        boxes: dict[str, list[Box]] = {}
        for cat, box in objs:
            if cat not in chosen_set:
                continue
            clipped = clip_box(box, w, h)
            if clipped is None:
                n_zero += 1
                continue
            boxes.setdefault(cat, []).append(clipped)
        if not boxes:
            n_without += 1
            if not background:
                continue
        if found is None or isinstance(found, Refused):
            skipped.append({"image": key, "reason": found.reason if found is not None else "image file not found"})
            continue
        if key in records:
            raise AnnotationError(f"image {key} is annotated twice (in several annotation files?)")
        ordered = {c: boxes[c] for c in chosen if c in boxes}
        records[key] = ImageRecord(key=key, path=str(found.resolve()), width=w, height=h, boxes=ordered)
    if not any(r.boxes for r in records.values()):
        raise AnnotationError(
            f"no usable image: {len(skipped)} listed images are missing and {n_without} contain none of the "
            f"categories {', '.join(chosen)}")
    return Dataset(format=fmt, images=[records[k] for k in sorted(records)], categories=chosen,
                   all_categories=all_cats, skipped=skipped,
                   annotation_files=[str(p) for p in files], n_without_selected=n_without,
                   n_zero_area_boxes=n_zero, background=background)


__all__ = ["AnnotationError", "Box", "Dataset", "ImageRecord", "VOC_CATEGORIES", "clip_box",
           "load_dataset", "parse_voc_xml", "voc_box_to_xywh"]
