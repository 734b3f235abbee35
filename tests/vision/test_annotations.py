"""COCO and VOC parsers on tiny generated files, including malformed and hostile ones."""
import json

import pytest

from tests.vision.fixtures import make_coco, make_voc, voc_xml
from vision.annotations import AnnotationError, clip_box, load_dataset, parse_voc_xml, voc_box_to_xywh
from vision.categories import VOC_CATEGORIES, canonical_name, select_categories
from vision.masks import box_pixel_span


def test_voc_conversion_is_one_based_inclusive():
    assert voc_box_to_xywh(1, 1, 10, 20) == (0.0, 0.0, 10.0, 20.0)
    assert voc_box_to_xywh(81, 88, 522, 408) == (80.0, 87.0, 442.0, 321.0)
    # VOC pixels 1..10 are our columns 0..9: exactly ten
    assert box_pixel_span(voc_box_to_xywh(1, 1, 10, 10), 100, 100) == (0, 10, 0, 10)
    # a one-pixel VOC box (xmin == xmax) is one pixel wide, not empty
    assert box_pixel_span(voc_box_to_xywh(5, 7, 5, 7), 100, 100) == (6, 7, 4, 5)


def test_clip_box():
    assert clip_box((2.5, 3.0, 10.0, 12.25), 40, 30) == (2.5, 3.0, 10.0, 12.25)
    assert clip_box((20.0, 10.0, 30.0, 30.0), 40, 30) == (20.0, 10.0, 20.0, 20.0)
    assert clip_box((-5.0, -5.0, 10.0, 10.0), 40, 30) == (0.0, 0.0, 5.0, 5.0)
    assert clip_box((50.0, 0.0, 5.0, 5.0), 40, 30) is None
    assert clip_box((1.0, 1.0, 0.0, 5.0), 40, 30) is None


def test_category_names():
    assert len(VOC_CATEGORIES) == 20
    assert canonical_name("Dining  Table") == "diningtable"
    assert canonical_name("airplane") == "aeroplane" and canonical_name("tv") == "tvmonitor"
    assert select_categories(None, ["dog", "toothbrush", "aeroplane"]) == ["aeroplane", "dog"]
    assert select_categories("all", ["dog", "toothbrush"]) == ["dog", "toothbrush"]
    assert select_categories("motorcycle, dog", ["motorbike", "dog", "cat"]) == ["motorbike", "dog"]
    with pytest.raises(ValueError, match="giraffe"):
        select_categories("giraffe", ["dog"])


def test_coco_parsing(tmp_path):
    img, ann = make_coco(tmp_path, n_images=6)
    ds = load_dataset(img, ann)
    assert ds.format == "coco"
    assert ds.categories == ["aeroplane", "dog", "person"]  # VOC order, COCO names mapped
    assert len(ds.images) == 6
    first = ds.images[0]
    assert first.key == "img000.jpg"
    assert first.boxes["person"] == [(2.5, 3.0, 10.0, 12.25)]
    assert first.boxes["dog"] == [(20.0, 10.0, 20.0, 20.0)]  # clipped to the 40x30 image
    assert "dog" not in ds.images[1].boxes


def test_coco_several_files_split_folders_and_missing_images(tmp_path):
    for split, seed in (("train2017", 0), ("val2017", 1)):
        img, ann = make_coco(tmp_path / split, n_images=3, seed=seed)
        (tmp_path / "images").mkdir(exist_ok=True)
        img.rename(tmp_path / "images" / split)
        (tmp_path / "annotations").mkdir(exist_ok=True)
        ann.rename(tmp_path / "annotations" / f"instances_{split}.json")
    (tmp_path / "images" / "val2017" / "img002.jpg").unlink()
    ds = load_dataset(tmp_path / "images", tmp_path / "annotations")
    keys = [r.key for r in ds.images]
    assert keys == ["train2017/img000.jpg", "train2017/img001.jpg", "train2017/img002.jpg",
                    "val2017/img000.jpg", "val2017/img001.jpg"]
    assert ds.skipped == [{"image": "val2017/img002.jpg", "reason": "image file not found"}]
    # the same with the two files passed one by one
    ds2 = load_dataset(tmp_path / "images", [tmp_path / "annotations" / "instances_train2017.json",
                                             tmp_path / "annotations" / "instances_val2017.json"])
    assert [r.key for r in ds2.images] == keys


def test_coco_zero_area_boxes_are_skipped(tmp_path):
    img, ann = make_coco(tmp_path, n_images=2)
    data = json.loads(ann.read_text())
    data["annotations"].append({"id": 99, "image_id": 2, "category_id": 18, "bbox": [3, 3, 0, 5]})
    ann.write_text(json.dumps(data))
    ds = load_dataset(img, ann)
    assert ds.n_zero_area_boxes == 1
    assert "dog" not in ds.images[1].boxes


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"images": []}), "not a COCO instances file"),
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "dog"}],
                 "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}]}), "bbox"),
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "dog"}],
                 "annotations": [{"id": 5, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}]}),
     "unknown image id 7"),
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "dog"}],
                 "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, "x", 3, 4]}]}), "not a number"),
    # issue 11, case 4: duplicate ids must not drop an image or rename a category
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}],
                 "categories": [{"id": 1, "name": "dog"}], "annotations": []}), "image id 1 is listed twice"),
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}],
                 "categories": [{"id": 3, "name": "dog"}, {"id": 3, "name": "horse"}], "annotations": []}),
     "category id 3 is listed twice"),
    # issue 11, messages: an unhashable id is one line, not a TypeError
    (json.dumps({"images": [{"id": [1], "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "dog"}],
                 "annotations": []}), "image id [1] is not an integer"),
    (json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "dog"}],
                 "annotations": [{"id": 5, "image_id": {"a": 1}, "category_id": 1, "bbox": [1, 2, 3, 4]}]}),
     "not an integer"),
])
def test_malformed_coco_names_the_file(tmp_path, content, message):
    (tmp_path / "images").mkdir()
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    with pytest.raises(AnnotationError) as err:
        load_dataset(tmp_path / "images", bad)
    text = str(err.value)
    assert str(bad) in text and message in text and "\n" not in text


def test_voc_plain_folder(tmp_path):
    img, ann = make_voc(tmp_path, n_images=4)
    ds = load_dataset(img, ann)
    assert ds.format == "voc" and ds.categories == ["cat", "dog"]
    assert ds.images[0].boxes == {"cat": [(2.0, 3.0, 10.0, 17.0)]}
    # dog xmax=36 in a 36-wide image: VOC's last pixel, so the box reaches x = 36 exactly (no clipping)
    assert ds.images[1].boxes["dog"] == [(14.0, 1.0, 22.0, 27.0)]


def test_voc_root_with_split(tmp_path):
    root, _ = make_voc(tmp_path, n_images=6, layout="voc")
    assert len(load_dataset(None, root).images) == 6  # images found in root/JPEGImages
    ds = load_dataset(root, root, split="train")
    assert [r.key for r in ds.images] == ["im000.jpg", "im002.jpg", "im004.jpg"]
    with pytest.raises(AnnotationError, match="nosuch.txt"):
        load_dataset(root, root, split="nosuch")


def test_voc_single_non_voc_class_needs_categories_all(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "ann").mkdir()
    from PIL import Image

    Image.new("RGB", (20, 20)).save(tmp_path / "images" / "r1.jpg")
    (tmp_path / "ann" / "r1.xml").write_text(voc_xml("r1.jpg", 20, 20, [("raccoon", (2, 2, 10, 10))]))
    with pytest.raises(AnnotationError, match="--categories all"):
        load_dataset(tmp_path / "images", tmp_path / "ann")
    ds = load_dataset(tmp_path / "images", tmp_path / "ann", categories="all")
    assert ds.categories == ["raccoon"]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<annotation><filename>&lol4;</filename></annotation>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><filename>&xxe;</filename></annotation>
"""


@pytest.mark.parametrize("content, message", [
    (BOMB, "unsafe XML"),
    (EXTERNAL, "unsafe XML"),
    ("<annotation><object><name>cat</name>", "malformed XML"),
    ("<notvoc/>", "expected <annotation>"),
    (voc_xml("a.jpg", 10, 10, [("cat", (1, 1, 5, 5))]).replace("<xmax>5</xmax>", ""), "no <xmax>"),
    (voc_xml("a.jpg", 10, 10, [("cat", (1, 1, 5, 5))]).replace("<ymin>1</ymin>", "<ymin>one</ymin>"), "not a number"),
    ("<annotation><object><name>cat</name></object></annotation>", "no <bndbox>"),
])
def test_malformed_or_hostile_voc_names_the_file(tmp_path, content, message):
    bad = tmp_path / "evil.xml"
    bad.write_text(content)
    with pytest.raises(AnnotationError) as err:
        parse_voc_xml(bad)
    text = str(err.value)
    assert str(bad) in text and message in text and "\n" not in text


def test_format_detection_errors(tmp_path):
    with pytest.raises(AnnotationError, match="not found"):
        load_dataset(tmp_path, tmp_path / "nope.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnnotationError, match="cannot tell the format"):
        load_dataset(tmp_path, tmp_path / "empty")


# -- issue 11, case 13: image paths stay inside the images folder ---------------------------------

def _coco_with_names(root, names):
    from PIL import Image

    img = root / "images"
    img.mkdir(parents=True)
    Image.new("RGB", (20, 20)).save(img / "ok.png")
    images = [{"id": i + 1, "file_name": n, "width": 20, "height": 20} for i, n in enumerate(["ok.png", *names])]
    anns = [{"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [1, 1, 5, 5]} for i in range(len(images))]
    ann = root / "instances_x.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "dog"}]}))
    return img, ann


def test_coco_paths_outside_the_images_folder_are_skipped_and_listed(tmp_path):
    import os

    from PIL import Image

    Image.new("RGB", (20, 20)).save(tmp_path / "secret.png")
    img, ann = _coco_with_names(tmp_path, ["../secret.png", str(tmp_path / "secret.png"), "/etc/passwd",
                                           "link.png", "fifo.png"])
    (img / "link.png").symlink_to(tmp_path / "secret.png")
    os.mkfifo(img / "fifo.png")
    ds = load_dataset(img, ann, "all")
    assert [r.key for r in ds.images] == ["ok.png"]
    reasons = {s["image"]: s["reason"] for s in ds.skipped}
    assert len(reasons) == 5
    assert all("outside the images folder" in reasons[k]
               for k in ("x/../secret.png", "x/" + str(tmp_path / "secret.png"),
                                                                 "x//etc/passwd", "x/link.png"))
    assert "not a regular file" in reasons["x/fifo.png"]


def test_voc_filename_outside_the_images_folder_is_skipped(tmp_path):
    from PIL import Image

    img_dir, ann_dir = make_voc(tmp_path, n_images=2)
    Image.new("RGB", (36, 28)).save(tmp_path / "secret.jpg")
    (ann_dir / "im000.xml").write_text(voc_xml("../secret.jpg", 36, 28, [("cat", (3, 4, 12, 20))]))
    ds = load_dataset(img_dir, ann_dir, "all")
    assert [r.key for r in ds.images] == ["im001.jpg"]
    assert "outside the images folder" in ds.skipped[0]["reason"]
