"""PASCAL VOC XML: one file per image, parsed with defusedxml (no entities, no external references)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from vision.annotations.model import AnnotationError, Box, RawImage, Refused, inside, number, relative_key
from vision.categories import canonical_name

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                    ".JPG", ".JPEG", ".PNG")


def voc_box_to_xywh(xmin: float, ymin: float, xmax: float, ymax: float) -> Box:
    """VOC's 1-based inclusive corners -> 0-based ``(x, y, w, h)``.

    VOC pixel i (1-based) is our pixel i-1, covering [i-1, i). A box over pixels xmin..xmax
    therefore starts at xmin-1 and is xmax-xmin+1 wide.
    """
    return (xmin - 1.0, ymin - 1.0, xmax - xmin + 1.0, ymax - ymin + 1.0)


def _parse_root(xml_path: Path):
    try:
        root = SafeET.parse(str(xml_path)).getroot()
    except DefusedXmlException as exc:
        raise AnnotationError(f"{xml_path}: refused unsafe XML ({type(exc).__name__}: entity declarations or "
                              "external references are not allowed)") from None
    except SafeET.ParseError as exc:
        raise AnnotationError(f"{xml_path}: malformed XML ({exc})") from None
    except OSError as exc:
        raise AnnotationError(f"{xml_path}: cannot read ({exc.strerror})") from None
    if root.tag != "annotation":
        raise AnnotationError(f"{xml_path}: root element is <{root.tag}>, expected <annotation>")
    return root


def _declared_size(root, xml_path: Path) -> tuple[int | None, int | None]:
    size = root.find("size")
    if size is None:
        return None, None
    w, h = size.findtext("width"), size.findtext("height")
    if w is None or h is None or not w.strip() or not h.strip():
        return None, None
    width = int(number(w, "size/width", xml_path))
    height = int(number(h, "size/height", xml_path))
    if width <= 0 or height <= 0:  # some tools write 0: treat as "not declared"
        return None, None
    return width, height


def _object(obj, i: int, xml_path: Path) -> tuple[str, Box]:
    """The (category, box) of the i-th <object> (0-based; messages count from 1)."""
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
        corners.append(number(text.strip(), f"object {i + 1} <{tag}>", xml_path))
    return canonical_name(name), voc_box_to_xywh(*corners)


def parse_voc_xml(xml_path: Path) -> tuple[str | None, int | None, int | None, list[tuple[str, Box]]]:
    """Parse one VOC XML file with defusedxml: ``(filename, width, height, [(category, box)])``."""
    root = _parse_root(xml_path)
    filename = (root.findtext("filename") or "").strip() or None
    width, height = _declared_size(root, xml_path)
    objects = [_object(obj, i, xml_path) for i, obj in enumerate(root.findall("object"))]
    return filename, width, height, objects


def voc_files(annotations: Path, split: str | None) -> tuple[list[Path], Path | None]:
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


def voc_image_path(images_dir: Path, filename: str | None, xml_path: Path) -> Path | Refused | None:
    """The image of an XML file: its <filename>, else the XML's stem with a usual image extension."""
    names = [filename] if filename else []
    names += [xml_path.stem + ext for ext in IMAGE_EXTENSIONS]
    for n in names:
        found = inside(images_dir, images_dir / n)
        if found is not None:
            return found  # a refused <filename> is reported, not replaced by a guess
    return None


def _images_dir(images: str | os.PathLike | None, roots: list[Path | None]) -> Path:
    if images is not None:
        images_dir = Path(images)
        if (images_dir / "JPEGImages").is_dir():
            images_dir = images_dir / "JPEGImages"
    elif roots and roots[0] is not None and (roots[0] / "JPEGImages").is_dir():
        images_dir = roots[0] / "JPEGImages"
    else:
        raise AnnotationError(
            "VOC annotations need --images (the images folder) unless they sit in a VOC root with JPEGImages/")
    if not images_dir.is_dir():
        raise AnnotationError(f"{images_dir}: images folder not found")
    return images_dir.resolve()


def read_voc(images: str | os.PathLike | None, annotations: Sequence[Path],
             split: str | None) -> tuple[list[RawImage], list[Path]]:
    """Every image of the VOC annotations (one XML each), and the XML files read."""
    files: list[Path] = []
    roots: list[Path | None] = []
    for a in annotations:
        fs, root = voc_files(a, split)
        files.extend(fs)
        roots.append(root)
    images_dir = _images_dir(images, roots)
    if not files:
        raise AnnotationError(f"{', '.join(map(str, annotations))}: no VOC *.xml file found")
    raw: list[RawImage] = []
    for xml in files:
        if not xml.is_file():
            raise AnnotationError(f"{xml}: annotation file listed in the split but not found")
        filename, w, h, objs = parse_voc_xml(xml)
        found = voc_image_path(images_dir, filename, xml)
        raw.append(RawImage(relative_key(found, images_dir, filename or xml.stem), found, w, h, objs))
    return raw, [p.resolve() for p in files]
