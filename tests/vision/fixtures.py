"""Tiny generated datasets for the vision tests (a few small JPEGs with boxes)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

CATEGORIES = ["person", "dog", "airplane"]  # COCO names; "airplane" must come out as "aeroplane"


def _image(rng: np.random.Generator, width: int, height: int, path: Path) -> None:
    arr = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, quality=90)


def make_coco(root: Path, n_images: int = 8, seed: int = 0, size: tuple[int, int] = (40, 30)) -> tuple[Path, Path]:
    """Images folder + instances JSON; every image has a person, some a dog or an airplane."""
    rng = np.random.default_rng(seed)
    img_dir = root / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(n_images):
        w, h = size
        name = f"img{i:03d}.jpg"
        _image(rng, w, h, img_dir / name)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
        anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1,
                     "bbox": [2.5, 3.0, 10.0, 12.25], "iscrowd": 0})
        if i % 2 == 0:
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 18,
                         "bbox": [20.0, 10.0, 30.0, 30.0], "iscrowd": 0})  # runs off the image: clipped
        if i % 3 == 0:
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 5,
                         "bbox": [1.0, 1.0, 5.0, 5.0], "iscrowd": 0})
    cats = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}, {"id": 5, "name": "airplane"},
            {"id": 90, "name": "toothbrush"}]
    ann_path = root / "instances_tiny.json"
    ann_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return img_dir, ann_path


def voc_xml(filename: str, width: int, height: int,
            objects: list[tuple[str, tuple[float, float, float, float]]]) -> str:
    objs = "".join(
        f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>" for n, b in objects)
    return (f"<annotation><filename>{filename}</filename><size><width>{width}</width><height>{height}</height>"
            f"<depth>3</depth></size>{objs}</annotation>")


def make_voc(root: Path, n_images: int = 6, seed: int = 0, layout: str = "plain") -> tuple[Path, Path]:
    """A VOC dataset: ``layout="plain"`` (images/ + annotations/) or ``"voc"`` (JPEGImages/ + Annotations/)."""
    rng = np.random.default_rng(seed)
    img_dir = root / ("JPEGImages" if layout == "voc" else "images")
    ann_dir = root / ("Annotations" if layout == "voc" else "annotations")
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        name = f"im{i:03d}.jpg"
        _image(rng, 36, 28, img_dir / name)
        objects = [("cat", (3, 4, 12, 20))]
        if i % 2:
            objects.append(("dog", (15, 2, 36, 28)))
        (ann_dir / f"im{i:03d}.xml").write_text(voc_xml(name, 36, 28, objects))
    if layout == "voc":
        main = root / "ImageSets" / "Main"
        main.mkdir(parents=True, exist_ok=True)
        (main / "train.txt").write_text("".join(f"im{i:03d}\n" for i in range(0, n_images, 2)))
    return (root if layout == "voc" else img_dir), (root if layout == "voc" else ann_dir)
