"""save/load and the CEPC / Tübingen exports, read back with ncc.formats' readers."""
import json

import numpy as np
import pytest

from ncc import __version__
from ncc.formats import read_cepc, read_tuebingen
from synthetic import make_config, make_pairs
from synthetic.io import cepc_paths, export_cepc, export_tuebingen, load, save


@pytest.fixture(scope="module")
def dense():
    config = make_config(n_points=50, mechanism="mix", kinds="causal,independent")
    X, y, info = make_pairs(8, n_points=50, mechanism="mix", kinds="causal,independent",
                            random_state=4, return_info=True)
    return X, y, info, config


@pytest.fixture(scope="module")
def ragged():
    config = make_config(n_points=(3, 40))
    X, y = make_pairs(7, n_points=(3, 40), random_state=5)
    return X, y, config


def test_npz_round_trip_dense(tmp_path, dense):
    X, y, info, config = dense
    path = save(tmp_path / "pairs.npz", X, y, config=config, random_state=4, info=info)
    back = load(path)
    assert back.X.dtype == np.float32 and np.array_equal(back.X, X)
    assert np.array_equal(back.y, y)
    assert back.config == config.to_dict() and back.random_state == 4
    assert back.version == __version__
    for key, values in info.items():
        assert np.array_equal(back.info[key], values)


def test_npz_round_trip_ragged(tmp_path, ragged):
    X, y, config = ragged
    back = load(save(tmp_path / "r.npz", X, y, config=config, random_state=5))
    assert len(back.X) == len(X)
    assert all(np.array_equal(a, b) for a, b in zip(back.X, X))
    assert back.config["n_points"] == [3, 40] and back.info is None
    with np.load(tmp_path / "r.npz") as raw:  # stored as values + offsets
        assert raw["offsets"][-1] == sum(len(p) for p in X)


def test_save_keeps_the_given_name_and_leaves_no_temp(tmp_path, ragged):
    X, y, config = ragged
    save(tmp_path / "data.bin", X, y, config=config, random_state=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_save_rejects_unrecordable_seed(tmp_path, ragged):
    X, y, config = ragged
    with pytest.raises(ValueError, match="random_state must be an int"):
        save(tmp_path / "x.npz", X, y, config=config, random_state=np.random.RandomState(0))


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an ncc synthetic-pairs file"):
        load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load(tmp_path / "text.npz")
    with pytest.raises(ValueError, match="no such file"):
        load(tmp_path / "missing.npz")


def test_cepc_round_trip(tmp_path, dense):
    X, y, _, config = dense
    pairs_csv, targets_csv = export_cepc(tmp_path / "train", X, y, config=config, random_state=4)
    assert pairs_csv.name == "train_pairs.csv" and targets_csv.name == "train_targets.csv"
    header = pairs_csv.read_text().splitlines()[0]
    assert header == "SampleID,A,B"
    targets = targets_csv.read_text().splitlines()
    assert targets[0] == "SampleID,Target"
    assert [int(line.split(",")[1]) for line in targets[1:]] == [
        {1: 1, 0: -1, -1: 0}[v] for v in y.tolist()]
    records = read_cepc(pairs_csv, targets_csv)
    assert [r.pair_id for r in records] == [f"pair{i}" for i in range(1, 9)]
    for rec, pair, label in zip(records, X, y):
        assert rec.status == "ok"
        assert np.array_equal(rec.data.astype(np.float32), pair)  # %.9g is lossless for float32
        assert rec.truth == (None if label == -1 else int(label))
    meta = json.loads((tmp_path / "train_meta.json").read_text())
    assert meta["random_state"] == 4 and meta["version"] == __version__
    assert meta["config"]["kinds"] == ["causal", "independent"]


def test_cepc_paths():
    assert [p.name for p in cepc_paths("d/x_pairs.csv")] == ["x_pairs.csv", "x_targets.csv", "x_meta.json"]
    assert [p.name for p in cepc_paths("d/x")] == ["x_pairs.csv", "x_targets.csv", "x_meta.json"]


def test_tuebingen_round_trip(tmp_path, ragged):
    X, y, config = ragged
    folder = export_tuebingen(tmp_path / "tb", X, y, config=config, random_state=5)
    meta_lines = (folder / "pairmeta.txt").read_text().splitlines()
    assert meta_lines[0].split()[0] == "0001"
    for line, label in zip(meta_lines, y.tolist()):
        assert line.split()[1:] == (["1", "1", "2", "2", "1"] if label == 1 else ["2", "2", "1", "1", "1"])
    records = read_tuebingen(folder, with_truth=True)
    assert [r.pair_id for r in records] == [f"pair{i:04d}" for i in range(1, 8)]
    for rec, pair, label in zip(records, X, y):
        assert rec.status == "ok" and rec.weight == 1.0
        assert np.array_equal(rec.data.astype(np.float32), pair)
        assert rec.truth == label
    assert json.loads((folder / "ncc_synthetic.json").read_text())["random_state"] == 5


def test_tuebingen_refuses_no_link_pairs_and_used_folders(tmp_path, dense, ragged):
    X, y, _, config = dense
    with pytest.raises(ValueError, match="cannot store pairs without a causal link"):
        export_tuebingen(tmp_path / "a", X, y, config=config, random_state=4)
    Xr, yr, configr = ragged
    export_tuebingen(tmp_path / "b", Xr, yr, config=configr, random_state=5)
    with pytest.raises(ValueError, match="already holds pair files"):
        export_tuebingen(tmp_path / "b", Xr, yr, config=configr, random_state=5)


def test_writers_check_shapes(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        save(tmp_path / "a.npz", np.zeros((2, 3)), [1, 0], config={}, random_state=0)
    with pytest.raises(ValueError, match="one label per pair"):
        save(tmp_path / "a.npz", np.zeros((2, 3, 2)), [1], config={}, random_state=0)
    with pytest.raises(ValueError, match="labels must be"):
        save(tmp_path / "a.npz", np.zeros((1, 3, 2)), [2], config={}, random_state=0)


def test_writers_report_unwritable_paths_as_value_error(tmp_path, ragged):
    X, y, config = ragged
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for write, target in ((save, blocker / "a.npz"), (export_cepc, blocker / "c"),
                          (export_tuebingen, blocker)):
        with pytest.raises(ValueError, match="cannot write to"):
            write(target, X, y, config=config, random_state=0)
    with pytest.raises(ValueError, match="it is a folder"):
        save(tmp_path, X, y, config=config, random_state=0)


# -- issue 11, messages: damaged training files say what is wrong ---------------------------------

@pytest.mark.parametrize("meta, match", [
    ("[1, 2]", "not an ncc synthetic-pairs file"),
    ("{not json", "meta_json is not valid JSON"),
    (json.dumps({"format": "ncc-synthetic-pairs"}), "lacks"),
])
def test_load_names_a_bad_meta_json(tmp_path, dense, meta, match):
    from synthetic.io import FORMAT_TAG

    X, y, _, config = dense
    path = save(tmp_path / "d.npz", X, y, config=config, random_state=0)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["meta_json"] = np.array(meta.replace("ncc-synthetic-pairs", FORMAT_TAG))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=match) as err:
        load(path)
    assert str(path) in str(err.value)


def test_load_names_a_pair_with_nan(tmp_path, ragged):
    X, y, config = ragged
    X = [p.copy() for p in X]
    X[3][2, 1] = np.nan
    path = save(tmp_path / "r.npz", X, y, config=config, random_state=0)
    with pytest.raises(ValueError, match=r"pair 3 holds NaN"):  # was "training diverged", much later
        load(path)
