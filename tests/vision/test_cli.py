"""`ncc vision ...` end to end on tiny generated datasets with a random-init resnet18 and a tiny NCC."""
import csv
import json

import pytest
from typer.testing import CliRunner

from ncc.cli import app
from tests.vision.fixtures import make_coco, make_voc, voc_xml

runner = CliRunner()
FAST = ["--random-init", "--resize", "32", "--workers", "0", "--quiet"]
FAST_ANALYSIS = ["--folds", "3", "--classifier-max-iter", "30", "--examples", "2", "--min-auc", "0",
                 "--min-positives", "0", "--permutations", "5", "--label-permutations", "2", "--bootstrap", "50"]


def _invoke(args):
    return runner.invoke(app, ["vision", *map(str, args)])


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_end_to_end(tmp_path, tiny_ncc_model):
    img, ann = make_coco(tmp_path / "ds", n_images=10)
    out = tmp_path / "out"
    res = _invoke(["run", "--images", img, "--annotations", ann, "--arch", "resnet18", "--out", out,
                   "--categories", "all", "--ncc-model", tiny_ncc_model, *FAST, *FAST_ANALYSIS])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output
    assert res.output.count("RANDOM WEIGHTS") == 1  # said once, not by extraction and analysis both
    for name in ("feature_scores.csv", "feature_correlations.csv", "report.json", "report.md",
                 "ratios_by_category.png", "examples.png"):
        assert (out / name).is_file(), name
    rows = _read_csv(out / "feature_scores.csv")
    assert list(rows[0]) == ["category", "feature", "causal", "anticausal", "object_ratio", "context_ratio",
                             "zero_fraction", "mean_activation", "objectness"]
    assert len(rows) == 3 * 512 and {r["category"] for r in rows} == {"aeroplane", "dog", "person"}
    assert [int(r["feature"]) for r in rows[:3]] == [0, 1, 2]
    report = json.loads((out / "report.json").read_text())
    assert any("RANDOM WEIGHTS" in w for w in report["warnings"])
    assert "RANDOM WEIGHTS" in (out / "report.md").read_text()
    assert report["backbone"]["weights"]["kind"] == "random-init"
    assert report["ncc_model"]["sha256"] and report["ncc_model"]["kind"] == "file"
    assert report["seed"] == 0 and report["version"]
    assert report["images"]["n_analysed"] == 10
    # person is in every image: no label variation, so it is reported, not scored
    assert report["categories"]["person"]["scored"] is False
    assert report["categories"]["dog"]["n_images_with_category"] == 5
    scored = [r for r in rows if r["category"] == "dog" and r["causal"] != "nan"]
    assert scored and all(0 <= float(r["causal"]) <= 1 for r in scored)
    assert all(abs(float(r["causal"]) + float(r["anticausal"]) - 1) < 1e-6 for r in scored)
    for key in ("ncc", "correlation", "abs_correlation"):
        assert set(report["results"][key]) == {"per_category", "object", "context"}
    assert report["results"]["ncc"]["object"]["n_categories"] == 2
    assert report["results"]["ncc"]["per_category"]["dog"]["n_top"] == 5


def test_extract_in_shards_then_analyze(tmp_path, tiny_ncc_model):
    img, ann = make_coco(tmp_path / "ds", n_images=8)
    feats = tmp_path / "feats"
    for shard in ("2/2", "1/2"):
        res = _invoke(["extract", "--images", img, "--annotations", ann, "--features", feats, "--shard", shard,
                       "--categories", "dog,airplane", "--background-images", *FAST])
        assert res.exit_code == 0, res.output
    res = _invoke(["analyze", "--features", feats, "--out", tmp_path / "out", "--ncc-model", tiny_ncc_model,
                   "--classifier", "logreg", "--top-percent", "2", "--no-figures", *FAST_ANALYSIS])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["images"]["n_analysed"] == 8 and report["images"]["n_background"] == 3  # images 1, 5, 7
    assert report["config"]["top_percent"] == 2.0 and report["classifier"]["kind"] == "logreg"
    assert report["results"]["ncc"]["per_category"]["dog"]["n_top"] == 10
    assert not (tmp_path / "out" / "ratios_by_category.png").exists()


def test_separate_training_set(tmp_path, tiny_ncc_model):
    img, ann = make_coco(tmp_path / "ds", n_images=6)
    timg, tann = make_coco(tmp_path / "train", n_images=8, seed=1)
    res = _invoke(["run", "--images", img, "--annotations", ann, "--out", tmp_path / "out", "--categories", "dog",
                   "--train-images", timg, "--train-annotations", tann, "--ncc-model", tiny_ncc_model,
                   "--classifier", "logreg", *FAST, *FAST_ANALYSIS])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["classifier"]["training"] == "separate training set"
    assert report["classifier"]["n_training_images"] == 8
    # dog is in every analysed image, but the training set has negatives: the class variable varies
    assert report["categories"]["dog"]["scored"] is True


def test_voc_run(tmp_path, tiny_ncc_model):
    img, ann = make_voc(tmp_path / "voc", n_images=6)
    res = _invoke(["run", "--images", img, "--annotations", ann, "--out", tmp_path / "out",
                   "--ncc-model", tiny_ncc_model, *FAST, *FAST_ANALYSIS])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(report["categories"]) == ["cat", "dog"]


@pytest.mark.parametrize("case", ["bad_json", "entity_bomb", "no_weights", "bad_checkpoint", "non_voc", "missing_model",
                                  "no_default_model", "read_only_features"])
def test_errors_are_one_line_and_exit_2(tmp_path, case, tiny_ncc_model, monkeypatch):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    args = ["run", "--images", img, "--annotations", ann, "--out", tmp_path / "out", *FAST,
            "--ncc-model", tiny_ncc_model]
    expect = None
    if case == "bad_json":
        ann.write_text("{oops")
        expect = str(ann)
    elif case == "entity_bomb":
        (tmp_path / "x").mkdir()
        bomb = tmp_path / "x" / "a.xml"
        bomb.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbb"><!ENTITY c "&b;&b;&b;">]>'
                        "<annotation><filename>&c;</filename></annotation>")
        args[4] = tmp_path / "x"
        expect = "unsafe XML"
    elif case == "no_weights":
        args.remove("--random-init")
        expect = "--random-init"
    elif case == "bad_checkpoint":
        ck = tmp_path / "ck.pth"
        ck.write_bytes(b"garbage")
        args += ["--weights", ck]
        expect = str(ck)
    elif case == "non_voc":
        (tmp_path / "r").mkdir()
        (tmp_path / "r" / "r1.xml").write_text(voc_xml("img000.jpg", 40, 30, [("raccoon", (2, 2, 9, 9))]))
        args[4] = tmp_path / "r"
        expect = "--categories all"
    elif case == "missing_model":
        args[0] = "analyze"
        args = ["analyze", "--features", tmp_path / "nofeat", "--out", tmp_path / "o",
                "--ncc-model", tmp_path / "none.safetensors"]
        expect = "not found"
    elif case == "no_default_model":
        import ncc.serialization

        monkeypatch.setattr(ncc.serialization, "DEFAULT_MODEL_PATH", tmp_path / "absent.safetensors")
        args = args[:-2]
        expect = "--ncc-model"
    elif case == "read_only_features":  # issue 11, messages: was a traceback
        import vision.store

        def read_only(self, *a, **k):
            raise OSError(30, "Read-only file system", str(self.root / "dataset.json"))

        monkeypatch.setattr(vision.store.FeatureStore, "prepare", read_only)
        expect = "Read-only file system"
    res = _invoke(args)
    assert res.exit_code == 2, res.output
    err = res.stderr if hasattr(res, "stderr") else res.output
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and expect in lines[0], err
    assert "Traceback" not in res.output


def test_training_features_must_match(tmp_path, tiny_ncc_model):
    img, ann = make_coco(tmp_path / "ds", n_images=4)
    for name, size in (("a", "32"), ("b", "40")):
        res = _invoke(["extract", "--images", img, "--annotations", ann, "--features", tmp_path / name,
                       "--categories", "all", "--random-init", "--resize", size, "--workers", "0", "--quiet"])
        assert res.exit_code == 0, res.output
    res = _invoke(["analyze", "--features", tmp_path / "a", "--train-features", tmp_path / "b", "--out", tmp_path / "o",
                   "--ncc-model", tiny_ncc_model])
    assert res.exit_code == 2 and "other settings (preprocessing)" in res.output


# -- issue 8: backbones from torchvision, module:callable and timm, end to end -----------------------

def _trivial_scorer(pairs):
    """Any fn(list of (n, 2) arrays) -> P(first causes second): here from the two spreads."""
    import numpy as np

    return np.array([0.5 + 0.5 * np.tanh(np.std(p[:, 0]) - np.std(p[:, 1])) for p in pairs])


@pytest.mark.parametrize("arch, extra, dim, map_shape", [
    ("resnet18", ["--random-init", "--resize", "64"], 512, [512, 2, 2]),
    ("tests.vision.arch_helpers:tiny_convnet", ["--resize", "40", "--crop", "32", "--mean", "0.5,0.5,0.5",
                                                "--std", "0.5,0.5,0.5"], 8, [8, 4, 4]),
    ("timm:test_resnet", ["--random-init", "--resize", "64"], 96, [96, 2, 2]),
])
def test_backbones_end_to_end(tmp_path, arch, extra, dim, map_shape):
    if arch.startswith("timm:"):
        pytest.importorskip("timm")
    from vision.analysis import analyze

    img, ann = make_coco(tmp_path / "ds", n_images=8)
    feats = tmp_path / "feats"
    res = _invoke(["extract", "--images", img, "--annotations", ann, "--features", feats, "--arch", arch,
                   "--categories", "all", "--workers", "0", "--quiet", *extra])
    assert res.exit_code == 0, res.output
    assert f"maps {'x'.join(map(str, map_shape))}" in res.output
    manifest = json.loads((feats / "manifest.json").read_text())
    assert manifest["config"]["map_shape"] == map_shape and manifest["config"]["feature_dim"] == dim
    assert manifest["backbone"]["arch"] == arch and len(manifest["backbone"]["state_dict_sha256"]) == 64
    if ":" in arch and not arch.startswith("timm:"):
        assert manifest["backbone"]["weights"]["class"] == "tests.vision.arch_helpers.TinyConvNet"
        assert manifest["config"]["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
    if arch.startswith("timm:"):
        assert manifest["config"]["preprocessing"]["mean"] == [0.5, 0.5, 0.5]  # timm's config for test_resnet
    report = analyze(feats, tmp_path / "out", scorer=_trivial_scorer, classifier="logreg", folds=3,
                            figures=False, progress=False)
    rows = _read_csv(tmp_path / "out" / "feature_scores.csv")
    assert len(rows) == 3 * dim and report["backbone"]["arch"] == arch


@pytest.mark.parametrize("arch, expect", [
    ("tests.vision.no_such:f", "cannot import tests.vision.no_such"),
    ("tests.vision.arch_helpers:NOT_CALLABLE", "not callable"),
    ("tests.vision.arch_helpers:raises", "calling it raised RuntimeError"),
    ("tests.vision.arch_helpers:wrong_shape", "returns shape (2, 3, 32)"),
    ("tests.vision.arch_helpers:not_a_module", "not a torch.nn.Module"),
    ("timm:test_resnet", "needs timm"),
    ("vgg16", "not supported"),
])
def test_bad_arch_is_one_line_and_exit_2(tmp_path, arch, expect, monkeypatch):
    import sys

    if arch.startswith("timm:"):
        monkeypatch.setitem(sys.modules, "timm", None)  # as if timm were not installed
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    res = _invoke(["extract", "--images", img, "--annotations", ann, "--features", tmp_path / "f", "--arch", arch,
                   *FAST])
    assert res.exit_code == 2, res.output
    err = res.stderr if hasattr(res, "stderr") else res.output
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and expect in lines[0] and arch in lines[0], err
    assert "Traceback" not in res.output


def test_shard_from_torchrun_and_slurm_environment(tmp_path, monkeypatch):
    img, ann = make_coco(tmp_path / "ds", n_images=4)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    args = ["extract", "--images", img, "--annotations", ann, "--categories", "all", *FAST]
    res = _invoke([*args, "--features", tmp_path / "f"])
    assert res.exit_code == 0, res.output
    assert "shard 2/2 (from torchrun RANK=1 of WORLD_SIZE=2)" in res.output
    assert (tmp_path / "f" / "progress-shard-2-of-2.json").is_file()
    res = _invoke([*args, "--features", tmp_path / "f", "--shard", "1/2"])  # explicit --shard wins
    assert res.exit_code == 0 and (tmp_path / "f" / "progress-shard-1-of-2.json").is_file()
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    for k, v in {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "2"}.items():
        monkeypatch.setenv(k, v)
    res = _invoke([*args, "--features", tmp_path / "g"])
    assert res.exit_code == 0 and "shard 3/3 (from SLURM_ARRAY_TASK_ID=4" in res.output
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "seven")
    res = _invoke([*args, "--features", tmp_path / "h"])
    err = res.stderr if hasattr(res, "stderr") else res.output
    assert res.exit_code == 2 and "environment variable SLURM_ARRAY_TASK_ID='seven'" in err
    assert "Traceback" not in res.output


def test_no_maps_and_bad_normalisation_options(tmp_path):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    args = ["extract", "--images", img, "--annotations", ann, "--categories", "all", *FAST]
    res = _invoke([*args, "--features", tmp_path / "f", "--no-maps"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "f" / "manifest.json").read_text())["config"]["map_shape"] is None
    res = _invoke([*args, "--features", tmp_path / "g", "--std", "0.2,0,0.2"])
    assert res.exit_code == 2 and "--std" in res.output


# -- issue 9: the option names of ncc's commands, old spellings hidden, one error style for ranges ----

def test_output_and_model_names_match_ncc_and_old_names_are_hidden(tmp_path, tiny_ncc_model):
    img, ann = make_coco(tmp_path / "ds", n_images=8)
    res = _invoke(["run", "--images", img, "--annotations", ann, "-o", tmp_path / "out", "--categories", "all",
                   "--model", tiny_ncc_model, *FAST, *FAST_ANALYSIS, "--no-figures"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "report.json").is_file() and (tmp_path / "out" / "features").is_dir()
    res = _invoke(["analyze", "--features", tmp_path / "out" / "features", "--output", tmp_path / "again",
                   "--model", tiny_ncc_model, *FAST_ANALYSIS, "--no-figures"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["ncc_model"]["kind"] == "file"
    for command in ("run", "analyze"):
        shown = _invoke([command, "--help"]).output
        assert "--output" in shown and "--model" in shown
        assert "--ncc-model" not in shown and "--out " not in shown


@pytest.mark.parametrize("extra, expect", [
    (["--batch-size", "0"], "--batch-size 0: must be at least 1"),
    (["--top-percent", "150"], "--top-percent 150: must be between 0 and 100"),
    (["--min-auc", "-0.5"], "--min-auc -0.5: must be between 0 and 1"),
    (["--out", "elsewhere"], "--output and --out (its old name) give different values"),
])
def test_range_and_alias_errors_are_one_line_and_exit_2(tmp_path, tiny_ncc_model, extra, expect):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    res = _invoke(["run", "--images", img, "--annotations", ann, "--output", tmp_path / "out",
                   "--model", tiny_ncc_model, *FAST, *extra])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and expect in lines[0], res.output
    assert not (tmp_path / "out").exists()  # refused before any work


def test_extract_range_error_is_one_line(tmp_path):
    img, ann = make_coco(tmp_path / "ds", n_images=2)
    res = _invoke(["extract", "--images", img, "--annotations", ann, "--features", tmp_path / "f", *FAST,
                   "--workers", "-1"])  # after FAST: the last value counts
    assert res.exit_code == 2 and "Error: --workers -1: must be at least 0" in res.output, res.output


@pytest.mark.parametrize("command", ["extract", "analyze", "run"])
def test_unknown_options_are_one_line_and_exit_2(command):
    res = _invoke([command, "--bogus"])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and "No such option: --bogus" in lines[0]
