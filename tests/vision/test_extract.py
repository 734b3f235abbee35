"""Extraction: an independent re-computation of §2, resume after a crash, shards, bad images."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from tests.vision.fixtures import make_coco
from vision.analysis import load_features
from vision.annotations import load_dataset
from vision.extract import extract_features
from vision.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing, normalize, resize_and_crop
from vision.store import FeatureStore, StoreError

SIZE = 32  # tiny inputs keep resnet18 fast on a CPU


class _Counting(nn.Module):
    """Wraps a backbone: counts the tensors it sees and can crash after some forward calls."""

    def __init__(self, inner, crash_after=None):
        super().__init__()
        self.inner, self.crash_after, self.calls, self.seen = inner, crash_after, 0, 0

    def forward(self, x):
        if self.crash_after is not None and self.calls >= self.crash_after:
            raise RuntimeError("simulated crash")
        self.calls += 1
        self.seen += len(x)
        return self.inner(x)


def _counting(backbone, crash_after=None):
    return replace(backbone, model=_Counting(backbone.model, crash_after))


def _run(img, ann, out, backbone, **kw):
    kw = {"resize": SIZE, "num_workers": 0, "progress": False, "categories": "all", **kw}
    return extract_features(img, ann, out, backbone=backbone, **kw)


def _reference(model, path, boxes, size):
    """§2 written independently: PIL decode, numpy blackout, torchvision PIL transforms."""
    from torchvision import transforms as T

    im = np.asarray(Image.open(path).convert("RGB")).copy()
    h, w = im.shape[:2]
    mask = np.zeros((h, w), bool)
    for x, y, bw, bh in boxes:
        mask[max(0, math.floor(y)):min(h, math.ceil(y + bh)), max(0, math.floor(x)):min(w, math.ceil(x + bw))] = True
    ctx = im.copy()
    ctx[mask] = 0
    obj = np.where(mask[..., None], im, 0).astype(np.uint8)
    tf = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    batch = torch.stack([tf(Image.fromarray(a)) for a in (im, ctx, obj)])
    with torch.inference_mode():
        return model(batch).numpy()


def test_features_match_an_independent_recomputation(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=4, size=(48, 36))
    _run(img, ann, tmp_path / "f", resnet18_random)
    feats = load_features(tmp_path / "f")
    ds = feats.dataset
    chunk = next(FeatureStore(tmp_path / "f").iter_chunks())
    for row, i in enumerate(chunk["image_index"]):
        rec = ds.images[i]
        for p in np.flatnonzero(chunk["pair_image"] == i):
            cat = ds.categories[chunk["pair_category"][p]]
            ref = _reference(resnet18_random.features, rec.path, rec.boxes[cat], SIZE)
            got = np.stack([chunk["original"][row], chunk["context_only"][p], chunk["object_only"][p]])
            # PIL and torch antialiased resizes differ by at most one grey level on a few pixels
            assert np.allclose(got, ref, rtol=0, atol=2e-2 * np.abs(ref).max())
            assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] > 0.9999


def test_preprocessing_steps():
    prep = Preprocessing(resize=8, crop=6)
    img = torch.arange(3 * 10 * 20, dtype=torch.int64).reshape(3, 10, 20).remainder(256).to(torch.uint8)
    out = resize_and_crop(img, prep)
    assert out.shape == (3, 6, 6) and out.dtype == torch.uint8
    x = normalize(torch.tensor([0, 255], dtype=torch.uint8).view(1, 1, 1, 2).expand(1, 3, 1, 2), prep)
    for c in range(3):
        assert x[0, c, 0, 0].item() == pytest.approx(-IMAGENET_MEAN[c] / IMAGENET_STD[c], rel=1e-6)
        assert x[0, c, 0, 1].item() == pytest.approx((1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], rel=1e-6)
    with pytest.raises(ValueError, match="crop"):
        Preprocessing(resize=8, crop=9)
    from torchvision.models import ResNet18_Weights

    assert Preprocessing.from_weights(ResNet18_Weights.IMAGENET1K_V1).mean == IMAGENET_MEAN


def _tensors_per_image(ds, indices):
    return sum(1 + 2 * len(ds.images[i].boxes) for i in indices)


def test_resume_after_interruption_recomputes_nothing_finished(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=9)
    ds = load_dataset(img, ann, "all")
    crashing = _counting(resnet18_random, crash_after=2)  # 2 batches = 2 chunks of 2 images, then crash
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(img, ann, tmp_path / "f", crashing, batch_size=2, chunk_size=2)
    prog = FeatureStore(tmp_path / "f")
    with pytest.raises(StoreError, match="incomplete"):
        prog.shard_progress()
    resumed = _counting(resnet18_random)
    summary = _run(img, ann, tmp_path / "f", resumed, batch_size=2, chunk_size=2)
    assert summary["n_images_done_before"] == 4 and summary["n_images_processed"] == 5
    assert resumed.model.seen == _tensors_per_image(ds, range(4, 9))  # only the unfinished images
    # nothing is lost: the result equals an uninterrupted run
    _run(img, ann, tmp_path / "g", resnet18_random, batch_size=2, chunk_size=2)
    a, b = load_features(tmp_path / "f"), load_features(tmp_path / "g")
    assert np.array_equal(a.image_index, np.arange(9)) and np.array_equal(a.original, b.original)
    assert np.array_equal(a.ratios.object_num, b.ratios.object_num)
    # and a third run has nothing left to do
    idle = _counting(resnet18_random)
    assert _run(img, ann, tmp_path / "f", idle, batch_size=2, chunk_size=2)["n_images_processed"] == 0
    assert idle.model.seen == 0


def test_resume_with_other_settings_is_refused(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    _run(img, ann, tmp_path / "f", resnet18_random)
    with pytest.raises(StoreError, match="settings differ: preprocessing"):
        _run(img, ann, tmp_path / "f", resnet18_random, resize=40)


def test_shards_merge_into_the_same_result(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=7)
    _run(img, ann, tmp_path / "one", resnet18_random, chunk_size=3)
    _run(img, ann, tmp_path / "two", resnet18_random, chunk_size=3, shard="2/2")
    with pytest.raises(StoreError, match="1/2 not extracted"):
        load_features(tmp_path / "two")
    _run(img, ann, tmp_path / "two", resnet18_random, chunk_size=3, shard="1/2")
    a, b = load_features(tmp_path / "one"), load_features(tmp_path / "two")
    assert np.array_equal(a.image_index, b.image_index)
    assert np.allclose(a.original, b.original, atol=1e-5)
    assert np.allclose(a.ratios.ratios()[0], b.ratios.ratios()[0], equal_nan=True)
    with pytest.raises(StoreError, match="another split"):
        _run(img, ann, tmp_path / "two", resnet18_random, chunk_size=3, shard="1/3")


def test_corrupt_and_vanished_images_are_skipped_and_listed(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=5)
    (img / "img001.jpg").write_bytes(b"\xff\xd8\xff this is not a jpeg")
    ds = load_dataset(img, ann, "all")
    (img / "img003.jpg").unlink()  # disappears after the annotations were read
    summary = _run(img, ann, tmp_path / "f", resnet18_random, dataset=ds)
    failed = {f["image"]: f["reason"] for f in summary["failed"]}
    assert set(failed) == {"img001.jpg", "img003.jpg"}
    assert failed["img003.jpg"] == "image file not found" and "cannot decode" in failed["img001.jpg"]
    feats = load_features(tmp_path / "f")
    assert feats.image_index.tolist() == [0, 2, 4]
    assert {f["image"] for f in feats.failed} == {"img001.jpg", "img003.jpg"}


def test_workers_give_the_same_features(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=4)
    _run(img, ann, tmp_path / "a", resnet18_random, num_workers=0)
    _run(img, ann, tmp_path / "b", resnet18_random, num_workers=1)
    assert np.allclose(load_features(tmp_path / "a").original, load_features(tmp_path / "b").original, atol=1e-5)


# -- issue 11, cases 12-14 ---------------------------------------------------------------------

def test_a_fifo_is_never_opened_as_an_image(tmp_path):
    import os

    from vision.preprocess import decode_image

    os.mkfifo(tmp_path / "f.png")
    with pytest.raises(ValueError, match="not a regular file"):
        decode_image(str(tmp_path / "f.png"))  # would block forever if it were opened


def test_decompression_bombs_are_skipped_before_decoding(tmp_path, resnet18_random):
    from vision.preprocess import ImageTooLarge, check_size

    img, ann = make_coco(tmp_path / "ds", n_images=2)
    Image.new("RGB", (20000, 2)).save(img / "img001.jpg".replace(".jpg", ".png"))
    (img / "img001.jpg").unlink()
    (img / "img001.png").rename(img / "img001.jpg")  # PIL reads the PNG whatever the name
    summary = _run(img, ann, tmp_path / "f", resnet18_random, max_pixels=5_000_000)  # 10 M after the resize
    (failed,) = summary["failed"]
    assert failed["image"] == "img001.jpg" and "image too large: 20000x2" in failed["reason"]
    with pytest.raises(ImageTooLarge, match="max-pixels 100"):
        check_size(20, 20, Preprocessing(resize=8, crop=8), max_pixels=100)
    check_size(640, 480, Preprocessing())  # ordinary photos pass


def test_boxes_removed_by_the_centre_crop_are_no_intervention(tmp_path, resnet18_random):
    import json

    img_dir = tmp_path / "images"
    img_dir.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 96, 3), dtype=np.uint8)).save(img_dir / "wide.png")
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},  # left: cropped away
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [40, 5, 10, 10]}]  # centre: kept
    ann = tmp_path / "instances_x.json"
    ann.write_text(json.dumps({"images": [{"id": 1, "file_name": "wide.png", "width": 96, "height": 32}],
                               "annotations": anns,
                               "categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}]}))
    summary = _run(img_dir, ann, tmp_path / "f", resnet18_random)
    assert summary["cropped_out"] == [{"image": "wide.png", "category": "dog"}]
    feats = load_features(tmp_path / "f")
    chunk = next(FeatureStore(tmp_path / "f").iter_chunks())
    assert [feats.dataset.categories[c] for c in chunk["pair_category"]] == ["cat"]


def test_a_backbone_with_nan_weights_is_refused_by_name(tmp_path, resnet18_random):
    """Case 11: NaN weights gave constant features that were then 'scored'."""
    import copy

    from vision.backbones import BackboneError
    from vision.extract import check_features

    broken = replace(resnet18_random, model=copy.deepcopy(resnet18_random.model))
    with torch.no_grad():
        next(broken.model.parameters()).fill_(float("nan"))
    img, ann = make_coco(tmp_path / "ds", n_images=3)
    with pytest.raises(BackboneError, match="backbone resnet18 .*NaN or infinite"):
        _run(img, ann, tmp_path / "f", broken)
    different = torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)])
    with pytest.raises(BackboneError, match="same features for 2 different images"):
        check_features(np.zeros((2, 8)), different, resnet18_random)
    check_features(np.zeros((2, 8)), torch.zeros(2, 3, 4, 4), resnet18_random)  # two copies of one image: fine


# -- issue 11, messages: a damaged features folder is one line naming the file ----------------------

@pytest.mark.parametrize("damage", ["chunk", "progress_json", "progress_list"])
def test_damaged_features_folder_names_the_file(tmp_path, resnet18_random, damage):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    _run(img, ann, tmp_path / "f", resnet18_random)
    progress = next((tmp_path / "f").glob("progress-shard-*.json"))
    if damage == "chunk":
        chunk = next(p for p in (tmp_path / "f").rglob("*.npz"))
        chunk.write_bytes(chunk.read_bytes()[:200])
        target = chunk
    else:
        progress.write_text("{\"done\": " if damage == "progress_json" else "[1, 2]")
        target = progress
    with pytest.raises(StoreError) as err:
        load_features(tmp_path / "f")
    assert str(target) in str(err.value) and "\n" not in str(err.value)


# -- issue 8: maps, box coverage, bare modules ---------------------------------------------------

def _cell_coverage_by_geometry(span, width, height, size, cells):
    """Share of each map cell inside the box, from the resize/crop geometry alone (no resampling)."""
    r0, r1, c0, c1 = span
    new_w, new_h = (size, int(size * height / width)) if width <= height else (int(size * width / height), size)
    sx, sy = new_w / width, new_h / height
    left, top = int(round((new_w - size) / 2)), int(round((new_h - size) / 2))
    x0, x1, y0, y1 = c0 * sx - left, c1 * sx - left, r0 * sy - top, r1 * sy - top
    cell = size / cells
    out = np.zeros((cells, cells))
    for i in range(cells):
        for j in range(cells):
            h = max(0.0, min(y1, (i + 1) * cell) - max(y0, i * cell))
            w = max(0.0, min(x1, (j + 1) * cell) - max(x0, j * cell))
            out[i, j] = h * w / cell ** 2
    return out


def test_maps_and_box_coverage_are_stored(tmp_path, resnet18_random):
    from vision.masks import box_pixel_span

    img, ann = make_coco(tmp_path / "ds", n_images=4, size=(48, 36))
    summary = _run(img, ann, tmp_path / "f", resnet18_random, resize=64)
    assert summary["map_shape"] == [512, 2, 2]
    store = FeatureStore(tmp_path / "f")
    assert store.manifest()["config"]["map_shape"] == [512, 2, 2]
    assert store.manifest()["backbone"]["class"] == "torch.nn.modules.container.Sequential"
    assert len(store.manifest()["backbone"]["state_dict_sha256"]) == 64
    chunk = next(store.iter_chunks())
    maps, cov = chunk["original_map"], chunk["pair_box_coverage"]
    assert maps.dtype == np.float16 and maps.shape == (len(chunk["image_index"]), 512, 2, 2)
    assert cov.dtype == np.float16 and cov.shape == (len(chunk["pair_image"]), 2, 2)
    # the map's global average is the stored feature (to float16 precision)
    mean = maps.astype(np.float32).mean(axis=(2, 3))
    assert np.allclose(mean, chunk["original"], rtol=2e-3, atol=2e-3 * np.abs(chunk["original"]).max())
    assert ((cov >= 0) & (cov <= 1)).all()
    ds = load_dataset(img, ann, "all")
    for p, (i, c) in enumerate(zip(chunk["pair_image"], chunk["pair_category"])):
        (box,) = ds.images[i].boxes[ds.categories[c]]
        expect = _cell_coverage_by_geometry(box_pixel_span(box, 36, 48), 48, 36, 64, 2)
        assert np.allclose(cov[p].astype(np.float64), expect, atol=0.04), (i, c, cov[p], expect)
    # only some of the arrays can be read (the maps are big)
    light = next(store.iter_chunks(keys=("image_index", "original")))
    assert set(light) == {"image_index", "original"}


def test_no_maps_and_resuming_with_other_map_settings(tmp_path, resnet18_random):
    img, ann = make_coco(tmp_path / "ds", n_images=3)
    summary = _run(img, ann, tmp_path / "f", resnet18_random, store_maps=False)
    assert summary["map_shape"] is None
    store = FeatureStore(tmp_path / "f")
    assert store.manifest()["config"]["map_shape"] is None
    assert "original_map" not in next(store.iter_chunks())
    with pytest.raises(StoreError, match="settings differ: store_maps"):
        _run(img, ann, tmp_path / "f", resnet18_random)


def test_folders_without_maps_still_load(tmp_path, resnet18_random):
    """Folders written before maps existed: no map arrays, no map_shape or store_maps in the config."""
    import json

    from vision._io import load_arrays, save_arrays_atomic

    img, ann = make_coco(tmp_path / "ds", n_images=3)
    _run(img, ann, tmp_path / "f", resnet18_random)
    manifest_path = tmp_path / "f" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["config"]["map_shape"], manifest["config"]["store_maps"]
    manifest_path.write_text(json.dumps(manifest))
    for path in (tmp_path / "f").glob("*.npz"):
        arrays = load_arrays(path)
        save_arrays_atomic(path, **{k: v for k, v in arrays.items() if k not in ("original_map", "pair_box_coverage")})
    feats = load_features(tmp_path / "f")
    assert feats.original.shape == (3, 512) and feats.manifest["config"].get("map_shape") is None


def test_a_bare_module_is_a_backbone(tmp_path):
    from tests.vision.arch_helpers import TinyConvNet, TinyPooled
    from vision.backbones import state_dict_sha256

    torch.manual_seed(0)
    net = TinyConvNet()
    img, ann = make_coco(tmp_path / "ds", n_images=3)
    prep = Preprocessing(resize=40, crop=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    summary = extract_features(img, ann, tmp_path / "f", backbone=net, preprocessing=prep, categories="all",
                               num_workers=0, progress=False)
    assert summary["map_shape"] == [8, 4, 4]
    manifest = FeatureStore(tmp_path / "f").manifest()
    assert manifest["config"]["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
    assert manifest["config"]["preprocessing"]["crop"] == 32
    w = manifest["backbone"]["weights"]
    assert w["class"] == "tests.vision.arch_helpers.TinyConvNet" and w["sha256"] == state_dict_sha256(net)
    chunk = next(FeatureStore(tmp_path / "f").iter_chunks())
    # the features are the average of the module's map of the preprocessed image
    rec = load_dataset(img, ann, "all").images[int(chunk["image_index"][0])]
    from vision.preprocess import decode_image

    x = normalize(resize_and_crop(decode_image(rec.path), prep)[None], prep)
    with torch.inference_mode():
        assert np.allclose(chunk["original"][0], net(x).mean(dim=(2, 3))[0].numpy(), atol=1e-5)
    # a module giving pooled features: no maps
    summary = extract_features(img, ann, tmp_path / "g", backbone=TinyPooled(), resize=32, categories="all",
                               num_workers=0, progress=False)
    assert summary["map_shape"] is None and "original_map" not in next(FeatureStore(tmp_path / "g").iter_chunks())


# -- issue 8, §4: the shard from the launchers' environment -----------------------------------------

@pytest.mark.parametrize("env, shard", [
    ({}, (1, 1)),
    ({"RANK": "0", "WORLD_SIZE": "4"}, (1, 4)),
    ({"RANK": "3", "WORLD_SIZE": "4"}, (4, 4)),
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"}, (1, 3)),
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "5"}, (3, 3)),
    ({"SLURM_ARRAY_TASK_ID": "20", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0",
      "SLURM_ARRAY_TASK_STEP": "10"}, (3, 4)),
    # torchrun inside an array task: the rank splits the task's shard
    ({"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1",
      "RANK": "1", "WORLD_SIZE": "2"}, (4, 4)),
])
def test_shard_from_the_environment(env, shard):
    from vision.store import shard_from_environment

    got, source = shard_from_environment(env)
    assert got == shard
    for name in env:
        if name in ("RANK", "SLURM_ARRAY_TASK_ID"):
            assert name in source


@pytest.mark.parametrize("env, name", [
    ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK"),
    ({"RANK": "0"}, "WORLD_SIZE"),
    ({"RANK": "0", "WORLD_SIZE": "0"}, "WORLD_SIZE"),
    ({"SLURM_ARRAY_TASK_ID": "3"}, "SLURM_ARRAY_TASK_COUNT"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3"}, "SLURM_ARRAY_TASK_ID"),  # 0-based: 0..2
    ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "a"}, "SLURM_ARRAY_TASK_MIN"),
])
def test_bad_launcher_environment_names_the_variable(env, name):
    from vision.store import shard_from_environment

    with pytest.raises(StoreError) as err:
        shard_from_environment(env)
    assert f"environment variable {name}" in str(err.value) and "\n" not in str(err.value)


def test_config_shard_none_reads_the_environment(tmp_path, resnet18_random, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    img, ann = make_coco(tmp_path / "ds", n_images=3)
    summary = _run(img, ann, tmp_path / "f", resnet18_random, shard=None)
    assert summary["shard"] == "2/2" and "RANK=1" in summary["shard_source"]
    assert (tmp_path / "f" / "progress-shard-2-of-2.json").is_file()
    assert _run(img, ann, tmp_path / "g", resnet18_random)["shard"] == "1/1"  # the default stays 1/1
