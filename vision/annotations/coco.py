"""COCO instances JSON: categories, images and boxes, with the image files found on disk."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Sequence

from vision.annotations.model import AnnotationError, RawImage, Refused, inside, number, relative_key
from vision.categories import canonical_name


def coco_split(json_path: Path) -> str:
    """``instances_val2017.json`` -> ``val2017``: the images sub-folder tried after the images folder itself."""
    stem = json_path.stem
    return stem[len("instances_"):] if stem.startswith("instances_") else stem


class ImageFinder:
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


def _check_id(value, what: str, path: Path) -> None:
    """COCO ids are integers (some tools write strings); anything else cannot be matched up."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AnnotationError(f"{path}: {what} id {value!r} is not an integer or a string")


def _read_instances(json_path: Path) -> dict:
    try:
        with open(json_path, "rb") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{json_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise AnnotationError(f"{json_path}: cannot read ({exc.strerror})") from None
    needed = ("images", "annotations", "categories")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in needed):
        raise AnnotationError(
            f"{json_path}: not a COCO instances file (needs lists 'images', 'annotations', 'categories')")
    return data


def _categories(entries: list, json_path: Path) -> dict:
    """Category id -> canonical name."""
    cats: dict = {}
    for c in entries:
        try:
            cid, cname = c["id"], canonical_name(str(c["name"]))
        except (KeyError, TypeError):
            raise AnnotationError(f"{json_path}: a category lacks 'id' or 'name'") from None
        _check_id(cid, "category", json_path)
        if cid in cats:  # a later entry would silently rename every object of the first
            raise AnnotationError(f"{json_path}: category id {cid!r} is listed twice ({cats[cid]!r} and {cname!r})")
        cats[cid] = cname
    return cats


def _images(entries: list, json_path: Path) -> dict:
    """Image id -> (file name, width, height, [objects, filled in by the annotations])."""
    images: dict = {}
    for im in entries:
        try:
            iid, name = im["id"], str(im["file_name"])
        except (KeyError, TypeError):
            raise AnnotationError(f"{json_path}: an image entry lacks 'id' or 'file_name'") from None
        _check_id(iid, "image", json_path)
        if iid in images:  # a later entry would silently replace the first image
            raise AnnotationError(f"{json_path}: image id {iid!r} is listed twice ({images[iid][0]!r} and {name!r})")
        w, h = im.get("width"), im.get("height")
        w = int(number(w, f"width of image {iid}", json_path)) if w is not None else None
        h = int(number(h, f"height of image {iid}", json_path)) if h is not None else None
        images[iid] = (name, w, h, [])
    return images


def _add_objects(entries: list, images: dict, cats: dict, json_path: Path) -> None:
    """Append each annotation's (category, box) to its image."""
    for ann in entries:
        try:
            iid, cid, bbox = ann["image_id"], ann["category_id"], ann["bbox"]
        except (KeyError, TypeError):
            aid = ann.get("id", "?") if isinstance(ann, dict) else "?"
            raise AnnotationError(f"{json_path}: annotation {aid} lacks 'image_id', 'category_id' or 'bbox'") from None
        aid = ann.get("id", "?")
        _check_id(iid, f"image (in annotation {aid})", json_path)
        _check_id(cid, f"category (in annotation {aid})", json_path)
        if iid not in images:
            raise AnnotationError(f"{json_path}: annotation {aid} refers to unknown image id {iid}")
        if cid not in cats:
            raise AnnotationError(f"{json_path}: annotation {aid} refers to unknown category id {cid}")
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise AnnotationError(f"{json_path}: annotation {aid} has bbox {bbox!r}, expected [x, y, width, height]")
        box = tuple(number(v, f"bbox of annotation {aid}", json_path) for v in bbox)
        images[iid][3].append((cats[cid], box))


def parse_coco(json_path: Path, finder: ImageFinder) -> Iterator[RawImage]:
    """One :class:`RawImage` per image of a COCO instances file, its file looked up by ``finder``."""
    data = _read_instances(json_path)
    cats = _categories(data["categories"], json_path)
    images = _images(data["images"], json_path)
    _add_objects(data["annotations"], images, cats, json_path)
    split = coco_split(json_path)
    for name, w, h, objs in images.values():
        found = finder.find(name, split)
        yield RawImage(relative_key(found, finder.root, f"{split}/{name}"), found, w, h, objs)


def coco_files(annotations: Sequence[Path]) -> list[Path]:
    """The JSON files named, or found in the folders named (``instances_*.json`` first), deduplicated."""
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


def read_coco(images: str | os.PathLike | None, annotations: Sequence[Path]) -> tuple[list[RawImage], list[Path]]:
    """Every image of the COCO files, and the files read."""
    if images is None:
        raise AnnotationError("COCO annotations need --images (the images folder)")
    images_dir = Path(images)
    if not images_dir.is_dir():
        raise AnnotationError(f"{images_dir}: images folder not found")
    files = coco_files(annotations)
    finder = ImageFinder(images_dir.resolve())
    raw: list[RawImage] = []
    for f in files:
        raw.extend(parse_coco(f, finder))
    return raw, files
