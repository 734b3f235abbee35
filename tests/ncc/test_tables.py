"""Whole tables: ncc.score_table, `ncc score TABLE --x/--y/--all-pairs`, and causal_score's inputs."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import ncc
from ncc.cli import app
from ncc.model import NCC, NCCConfig
from ncc.tables import TableError, read_table, select_pairs
from tests.ncc.helpers import one_line_error

pd = pytest.importorskip("pandas")
runner = CliRunner()


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return NCC(NCCConfig(embed_dim=8, classifier_dim=8)).eval()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    ncc.save(net, path)
    return path


def _frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = np.tanh(a) + 0.2 * rng.normal(size=n)
    c = rng.uniform(size=n)
    b_missing = b.copy()
    b_missing[[3, 7, 11]] = np.nan
    return pd.DataFrame({"a": a, "b": b_missing, "city": ["x", "y"] * (n // 2), "c": c,
                         "flag": [True, False] * (n // 2)})


def _write_csv(df, path, sep=","):
    df.to_csv(path, index=False, sep=sep)
    return path


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))




# ----------------------------------------------------------------------------- Python API
def test_score_table_every_pair_matches_causal_score(net):
    df = _frame()
    out = ncc.score_table(df, model=net)
    assert list(out.columns) == ["x", "y", "score", "p_none", "n_points", "status"]
    assert list(zip(out.x, out.y)) == [("a", "b"), ("a", "c"), ("b", "c")]
    skipped = out.attrs["skipped_columns"]
    assert set(skipped) == {"city", "flag"} and skipped["flag"] == "non-numeric (bool)"
    assert skipped["city"].startswith("non-numeric (")  # object or str, by pandas version
    ab = out.iloc[0]
    assert ab.n_points == 117 and ab.status == "ok (dropped 3 rows with missing values)"
    keep = df.b.notna()
    assert ab.score == pytest.approx(ncc.causal_score(df.a[keep], df.b[keep], model=net), abs=1e-9)
    assert out.iloc[1].status == "ok"
    link = ncc.link_scores([np.c_[df.a[keep], df.b[keep]]])[0]  # the shipped link model
    assert ab.p_none == pytest.approx(link, abs=1e-6) and 0 <= ab.p_none <= 1  # batching: ~1e-7
    swapped = ncc.score_table(df, "b", "a", model=net).iloc[0]
    assert swapped.p_none == pytest.approx(ab.p_none, abs=1e-6)  # symmetric
    assert swapped.score == pytest.approx(1 - ab.score, abs=1e-9)  # antisymmetric


def test_score_table_one_named_pair_and_bad_names(net):
    df = _frame()
    out = ncc.score_table(df, "c", "a", model=net)
    assert len(out) == 1 and (out.x[0], out.y[0]) == ("c", "a")
    with pytest.raises(TableError, match=r"unknown column 'z'; available: a, b, city, c, flag"):
        ncc.score_table(df, "a", "z", model=net)
    with pytest.raises(TableError, match="'city' is non-numeric"):
        ncc.score_table(df, "a", "city", model=net)
    with pytest.raises(TableError, match="empty"):
        ncc.score_table(df.iloc[:0], model=net)
    with pytest.raises(TableError, match="fewer than two numeric columns"):
        ncc.score_table(df[["a", "city"]], model=net)
    with pytest.raises(TableError, match="'e' is all missing"):
        ncc.score_table(df.assign(e=np.nan), "a", "e", model=net)


def test_all_missing_column_is_skipped_in_all_pairs_mode(net):
    out = ncc.score_table(_frame()[["a", "c"]].assign(e=np.nan), model=net)
    assert list(zip(out.x, out.y)) == [("a", "c")] and out.attrs["skipped_columns"] == {"e": "all missing"}


def test_score_table_constant_and_too_few(net):
    df = pd.DataFrame({"a": np.arange(30.0), "k": np.ones(30), "sparse": [1.0] * 5 + [np.nan] * 25})
    out = ncc.score_table(df, model=net).set_index(["x", "y"])
    assert out.loc[("a", "k"), "score"] == 0.5 and out.loc[("a", "k"), "status"].startswith("constant (y")
    assert np.isnan(out.loc[("a", "k"), "p_none"])
    assert np.isnan(out.loc[("a", "sparse"), "score"])
    assert out.loc[("a", "sparse"), "status"] == "too_few_points (5 < 10, after dropped 25 rows with missing values)"


def test_causal_score_accepts_series_and_tensors(net):
    rng = np.random.default_rng(1)
    x = rng.normal(size=80)
    y = x**3 + 0.1 * rng.normal(size=80)
    ref = ncc.causal_score(x, y, model=net)
    shuffled_index = pd.Series(x, index=rng.permutation(80))  # values pair up by position, not by index
    assert ncc.causal_score(shuffled_index, pd.Series(y), model=net) == pytest.approx(ref, abs=1e-12)
    tx = torch.tensor(x, requires_grad=True)
    assert ncc.causal_score(tx, torch.tensor(y, dtype=torch.float32), model=net) == pytest.approx(ref, abs=1e-5)
    assert ncc.causal_score(tx.to(torch.bfloat16), torch.tensor(y), model=net) == pytest.approx(ref, abs=0.1)
    with pytest.raises(ValueError, match="NaN"):
        ncc.causal_score(pd.Series([1.0, None, 3.0] * 5, dtype="Float64"), pd.Series(np.arange(15.0)), model=net)
    with pytest.raises(ValueError, match="numeric"):
        ncc.causal_score(pd.Series(["a", "b"]), pd.Series([1.0, 2.0]), model=net)


# ----------------------------------------------------------------------------- readers
@pytest.mark.parametrize("suffix,sep", [(".csv", ","), (".tsv", "\t"), (".txt", ";")])
def test_read_delimited_tables(tmp_path, suffix, sep):
    path = _write_csv(_frame(), tmp_path / f"t{suffix}", sep=sep)
    table = read_table(path)
    assert list(table.columns) == ["a", "b", "c"]
    assert set(table.skipped) == {"city", "flag"} and table.n_rows == 120
    assert np.isnan(table.columns["b"]).sum() == 3


def test_read_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    table = read_table(path)
    assert list(table.columns) == ["a", "b", "c"] and np.isnan(table.columns["b"]).sum() == 3


def test_reader_errors_name_the_file(tmp_path):
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(TableError, match=r"empty\.csv: the table is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(TableError, match=r"ragged\.csv: line 3 has 1 fields"):
        read_table(tmp_path / "ragged.csv")
    (tmp_path / "dup.csv").write_text("a,a\n1,2\n")
    with pytest.raises(TableError, match="appears twice"):
        read_table(tmp_path / "dup.csv")
    with pytest.raises(TableError, match="is a folder"):
        read_table(tmp_path)
    table = read_table(_write_csv(_frame(), tmp_path / "ok.csv"))
    with pytest.raises(TableError, match="both x and y"):
        select_pairs(table, "a", None)


# ----------------------------------------------------------------------------- CLI
def test_cli_all_pairs_matches_python(tmp_path, model_file, net):
    df = _frame()
    path = _write_csv(df, tmp_path / "t.csv")
    out = tmp_path / "pairs.csv"
    result = runner.invoke(app, ["score", str(path), "--all-pairs", "-m", str(model_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped columns: city" in result.stderr and "scored 3 of 3 column pairs" in result.stderr
    rows = _rows(out.read_text())
    assert list(rows[0]) == ["x", "y", "score", "p_none", "n_points", "status"]
    expected = ncc.score_table(df, model=net)
    for row, (_, ref) in zip(rows, expected.iterrows()):
        assert (row["x"], row["y"]) == (ref.x, ref.y)
        assert float(row["score"]) == pytest.approx(ref.score, abs=1e-6)
        assert float(row["p_none"]) == pytest.approx(ref.p_none, abs=1e-6)
    prov = json.loads((tmp_path / "pairs.csv.json").read_text())
    assert prov["skipped_columns"]["city"].startswith("non-numeric") and prov["n_pairs"] == 3
    assert pd.read_csv(out).shape == (3, 6)


def test_cli_named_pair_and_plots(tmp_path, model_file):
    path = _write_csv(_frame(), tmp_path / "t.csv")
    result = runner.invoke(app, ["score", str(path), "--x", "a", "--y", "b", "-m", str(model_file),
                                 "--plots", str(tmp_path / "figs")])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert len(rows) == 1 and rows[0]["n_points"] == "117"
    png = tmp_path / "figs" / "table_scores.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,expected", [
    (["--x", "a", "--y", "nope"], "unknown column 'nope'; available: a, b, city, c, flag"),
    (["--x", "a"], "needs both --x and --y"),
    (["--x", "a", "--y", "b", "--all-pairs"], "not both"),
    (["--x", "a", "--y", "city"], "'city' is non-numeric"),
])
def test_cli_bad_columns_are_one_line(tmp_path, model_file, args, expected):
    path = _write_csv(_frame(), tmp_path / "t.csv")
    line = one_line_error(runner.invoke(app, ["score", str(path), *args, "-m", str(model_file)]))
    assert expected in line


def test_cli_bad_tables_are_one_line_naming_the_file(tmp_path, model_file):
    cases = {"empty.csv": "a,b\n", "one.csv": "a,name\n1,x\n2,y\n", "blank.csv": ""}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        result = runner.invoke(app, ["score", str(tmp_path / name), "--all-pairs", "-m", str(model_file)])
        line = one_line_error(result)
        assert name in line, line
    (tmp_path / "nan.csv").write_text("a,b\n1,\n2,NA\n")
    line = one_line_error(runner.invoke(app, ["score", str(tmp_path / "nan.csv"), "--x", "a", "--y", "b",
                                               "-m", str(model_file)]))
    assert "nan.csv" in line and "'b' is all missing" in line


def test_multi_column_file_without_table_flags_gets_a_hint(tmp_path, model_file):
    path = _write_csv(_frame()[["a", "b", "c"]].fillna(0), tmp_path / "t.csv")
    result = runner.invoke(app, ["score", str(path), "-m", str(model_file)])
    assert result.exit_code == 0 and "--all-pairs" in result.stderr
