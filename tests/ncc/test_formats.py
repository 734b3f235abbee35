"""Pair-file readers and writers: every layout, round trips, and every per-pair problem status."""
from __future__ import annotations

import numpy as np
import pytest

from ncc.formats import (
    FORMATS,
    FormatError,
    detect_format,
    read_anls,
    read_cepc,
    read_pairs,
    read_tuebingen,
    read_two_column,
    status_code,
    write_anls,
    write_cepc,
    write_tuebingen,
    write_two_column,
)


def _pairs(k=3, n=20, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n + i, 2)) for i in range(k)]


# ----------------------------------------------------------------------------- round trips
def test_cepc_round_trip_with_targets(tmp_path):
    pairs = _pairs()
    ids = ["a1", "a2", "a3"]
    write_cepc(tmp_path / "x_pairs.csv", ids, pairs, tmp_path / "x_targets.csv", targets=[1, -1, 0])
    recs = read_cepc(tmp_path / "x_pairs.csv", tmp_path / "x_targets.csv")
    assert [r.pair_id for r in recs] == ids
    for r, p in zip(recs, pairs):
        np.testing.assert_array_equal(r.data, p)  # lossless
        assert r.status == "ok"
    assert [r.truth for r in recs] == [1, 0, None]  # target 0 (no link) has no direction


def test_cepc_truths_keyword_and_autodetected_targets(tmp_path):
    pairs = _pairs(2)
    write_cepc(tmp_path / "d_pairs.csv", ["p", "q"], pairs, tmp_path / "d_targets.csv", truths=[0, 1])
    assert detect_format(tmp_path / "d_pairs.csv") == "cepc"
    # Truth is opt-in: plain reading never looks at the targets file.
    assert [r.truth for r in read_pairs(tmp_path / "d_pairs.csv")] == [None, None]
    assert [r.truth for r in read_pairs(tmp_path / "d_pairs.csv", with_truth=True)] == [0, 1]


def test_tuebingen_round_trip(tmp_path):
    pairs = _pairs()
    ids = write_tuebingen(tmp_path, pairs, truths=[1, 0, 1], weights=[0.5, 1.0, 0.25])
    assert ids == ["pair0001", "pair0002", "pair0003"]
    meta = (tmp_path / "pairmeta.txt").read_text().splitlines()
    assert meta[0].split()[:5] == ["0001", "1", "1", "2", "2"]
    assert meta[1].split()[:5] == ["0002", "2", "2", "1", "1"]
    assert detect_format(tmp_path) == "tuebingen"
    recs = read_tuebingen(tmp_path, with_truth=True)
    assert [r.truth for r in recs] == [1, 0, 1]
    assert [r.weight for r in recs] == [0.5, 1.0, 0.25]
    for r, p in zip(recs, pairs):
        np.testing.assert_array_equal(r.data, p)
    assert all(r.truth is None for r in read_tuebingen(tmp_path))


def test_anls_round_trip(tmp_path):
    pairs = _pairs()
    write_anls(tmp_path, pairs, truths=[0, 1, 1])
    assert (tmp_path / "pair_1.txt").read_text().startswith('"","x_pa","x_child"\n"1",')
    assert detect_format(tmp_path) == "anls"
    recs = read_anls(tmp_path, with_truth=True)
    assert [r.pair_id for r in recs] == ["pair_1", "pair_2", "pair_3"]
    assert [r.truth for r in recs] == [0, 1, 1]
    for r, p in zip(recs, pairs):
        np.testing.assert_array_equal(r.data, p)  # index column dropped
    assert all(r.truth is None for r in read_pairs(tmp_path))


def test_anls_numeric_order_not_lexicographic(tmp_path):
    pairs = _pairs(11, n=12)
    write_anls(tmp_path, pairs, truths=[i % 2 for i in range(11)])
    recs = read_anls(tmp_path, with_truth=True)
    assert [r.pair_id for r in recs][:3] == ["pair_1", "pair_2", "pair_3"]
    assert recs[9].pair_id == "pair_10" and recs[9].truth == 1
    np.testing.assert_array_equal(recs[10].data, pairs[10])


@pytest.mark.parametrize(
    "text",
    [
        "1.5 2\n3 4\n5 6e-1\n",
        "x,y\n1.5,2\n3,4\n5,6e-1\n",
        "x;y\n1.5;2\n3;4\n5;6e-1\n",
        "x\ty\n1.5\t2\n3\t4\n5\t6e-1\n",
        "1,5;2\n3;4\n5;0,6\n",  # decimal commas
        '"","a","b"\n"1",1.5,2\n"2",3,4\n"3",5,0.6\n',  # R-style index column
        "# a comment\n1.5   2\n\n3 4\n5 0.6\n",
    ],
)
def test_two_column_variants(tmp_path, text):
    f = tmp_path / "mypair.txt"
    f.write_text(text)
    assert detect_format(f) == "two-column"
    (rec,) = read_pairs(f)
    assert rec.pair_id == "mypair" and rec.status == "ok"
    np.testing.assert_allclose(rec.data, [[1.5, 2], [3, 4], [5, 0.6]])


def test_two_column_writer_round_trip(tmp_path):
    (p,) = _pairs(1)
    write_two_column(tmp_path / "p.csv", p, header=["x", "y"])
    np.testing.assert_array_equal(read_two_column(tmp_path / "p.csv")[0].data, p)


# ----------------------------------------------------------------------------- bad pairs
def test_bad_pairs_get_statuses_and_the_others_read(tmp_path):
    good = np.arange(24, dtype=float).reshape(12, 2)
    write_tuebingen(tmp_path, [good, good, good, good, good], truths=[1, 1, 0, 1, 1])
    (tmp_path / "pair0002.txt").write_text("1 2\n3 abc\n5 6\n")
    (tmp_path / "pair0003.txt").write_text("")
    (tmp_path / "pair0004.txt").write_text("1 2\n3\n5 6\n")
    (tmp_path / "pair0005.txt").write_text("1 2 3\n4 5 6\n7 8 9\n")
    meta = (tmp_path / "pairmeta.txt").read_text().splitlines()
    meta[4] = "0005 1 2 3 3 1"  # cause spans columns 1-2: multivariate
    (tmp_path / "pairmeta.txt").write_text("\n".join(meta) + "\n")
    recs = read_tuebingen(tmp_path, with_truth=True)
    codes = [status_code(r.status) for r in recs]
    assert codes == ["ok", "non_numeric", "empty_file", "unequal_lengths", "multivariate"]
    assert "line 2" in recs[1].status and "abc" in recs[1].status
    assert "line 2" in recs[3].status
    assert all(r.data is None for r in recs[1:])
    np.testing.assert_array_equal(recs[0].data, good)
    assert recs[2].truth == 0  # truth still known for the skipped pair


def test_more_than_two_columns_without_meta_is_multivariate(tmp_path):
    f = tmp_path / "wide.txt"
    f.write_text("1 2 3\n4 5 7\n7 8 1\n")
    (rec,) = read_two_column(f)
    assert status_code(rec.status) == "multivariate"


def test_pairmeta_selects_single_columns_of_a_wide_file(tmp_path):
    (tmp_path / "pair0001.txt").write_text("1 9 2\n3 9 4\n5 9 7\n")
    (tmp_path / "pairmeta.txt").write_text("0001 3 3 1 1 0.5\n")
    (rec,) = read_tuebingen(tmp_path, with_truth=True)
    assert rec.status == "ok" and rec.truth == 0 and rec.weight == 0.5
    np.testing.assert_array_equal(rec.data, [[1, 2], [3, 4], [5, 7]])


def test_missing_tokens_become_nan(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("x,y\n1,2\nNA,4\n5,\n")
    (rec,) = read_two_column(f)
    assert rec.status == "ok"
    assert np.isnan(rec.data[1, 0]) and np.isnan(rec.data[2, 1])


def test_cepc_bad_rows(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("SampleID,A,B\nok1,1 2 3,4 5 6\nbadnum,1 x 3,4 5 6\nuneq,1 2 3,4 5\nempty,,\n")
    recs = read_cepc(f)
    assert [status_code(r.status) for r in recs] == ["ok", "non_numeric", "unequal_lengths", "empty_file"]
    assert "A has 3, B has 2" in recs[2].status


def test_header_only_file_is_empty(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("x,y\n")
    assert status_code(read_two_column(f)[0].status) == "empty_file"


# ----------------------------------------------------------------------------- whole-input errors
def test_unknown_format_lists_formats(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("1 2\n")
    with pytest.raises(FormatError) as err:
        read_pairs(f, format="parquet")
    for name in FORMATS:
        assert name in str(err.value)


def test_missing_input_and_empty_folder(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        read_pairs(tmp_path / "nope.csv")
    with pytest.raises(FormatError, match="no pairNNNN"):
        detect_format(tmp_path)


def test_folder_format_on_a_file_is_an_error(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("1 2\n")
    with pytest.raises(FormatError, match="expects a folder"):
        read_pairs(f, format="tuebingen")


def test_writers_reject_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        write_tuebingen(tmp_path, [np.zeros((4, 3))], truths=[1])
    with pytest.raises(ValueError, match="targets"):
        write_cepc(tmp_path / "c.csv", ["a"], [np.zeros((3, 2))], tmp_path / "t.csv", targets=[2])


def test_malformed_pairmeta_line_only_skips_its_pair(tmp_path):
    write_tuebingen(tmp_path, _pairs(), truths=[1, 0, 1])
    lines = (tmp_path / "pairmeta.txt").read_text().splitlines()
    lines[1] = "0002 2 x 1 1 1"
    (tmp_path / "pairmeta.txt").write_text("\n".join(lines) + "\n")
    recs = read_tuebingen(tmp_path, with_truth=True)
    assert [status_code(r.status) for r in recs] == ["ok", "bad_pairmeta", "ok"]
    assert [r.truth for r in recs] == [1, None, 1]


# ----------------------------------------------------------------------------- issue 11, cases 7-9, 15
def test_pairmeta_columns_are_the_truth_even_for_a_counting_first_column(tmp_path):
    """Case 7: a first column 1..n is data when pairmeta.txt numbers the columns."""
    rows = "".join(f"{i} {i * 0.5 + 3} {i ** 2}\n" for i in range(1, 12))
    (tmp_path / "pair0001.txt").write_text(rows)
    (tmp_path / "pairmeta.txt").write_text("0001 1 1 3 3 1\n")
    (rec,) = read_tuebingen(tmp_path, with_truth=True)
    assert rec.status == "ok" and rec.truth == 1
    np.testing.assert_array_equal(rec.data[:, 0], np.arange(1, 12))
    np.testing.assert_array_equal(rec.data[:, 1], np.arange(1, 12) ** 2)


@pytest.mark.parametrize("token", ["1_000", "\u0661\u0662", "\uff11"])
def test_numbers_with_underscores_or_non_ascii_digits_are_non_numeric(tmp_path, token):
    """Case 8: float() accepts these; a data file must not."""
    f = tmp_path / "p.txt"
    f.write_text(f"1 2\n3 4\n{token} 5\n")
    (rec,) = read_two_column(f)
    assert status_code(rec.status) == "non_numeric" and token in rec.status
    c = tmp_path / "c.csv"
    c.write_text(f"SampleID,A,B\np1,1 {token} 3,4 5 6\n")
    assert status_code(read_cepc(c)[0].status) == "non_numeric"


def test_cepc_row_cut_at_the_end_of_the_file_is_truncated(tmp_path):
    """Case 8: the last number of a cut row looks like any other."""
    c = tmp_path / "c.csv"
    c.write_text("SampleID,A,B\np1,1 2 3,4 5 6\np2,1 2 3,4 5 6.2")
    recs = read_cepc(c)
    assert [status_code(r.status) for r in recs] == ["ok", "truncated"] and recs[1].data is None
    c.write_text('SampleID,A,B\np1,1 2 3,4 5 6\np2,"1 2 3","4 5\n')
    with pytest.raises(FormatError, match=f"{c}: line"):
        read_cepc(c)


def test_duplicate_cepc_sample_ids_are_not_scored(tmp_path):
    """Case 8: two rows, one target: neither row can be trusted."""
    c = tmp_path / "c.csv"
    c.write_text("SampleID,A,B\np1,1 2 3,4 5 6\np2,1 2 3,4 5 7\np1,3 2 1,6 5 4\n")
    recs = read_cepc(c)
    assert [status_code(r.status) for r in recs] == ["duplicate_id", "ok", "duplicate_id"]
    assert "'p1'" in recs[0].status and recs[0].data is None


@pytest.mark.parametrize("targets, match", [
    ("SampleID,Target\np1,1\np1,-1\n", "p1.*twice.*line 2"),
    ("SampleID,Target\np1,0.6\n", "0.6"),
    ("SampleID,Target\np1,1_0\n", "not a number"),
])
def test_bad_cepc_targets_are_one_line_errors(tmp_path, targets, match):
    c = tmp_path / "c.csv"
    c.write_text("SampleID,A,B\np1,1 2 3,4 5 6\n")
    t = tmp_path / "t.csv"
    t.write_text(targets)
    with pytest.raises(FormatError, match=match) as err:
        read_cepc(c, t)
    assert str(t) in str(err.value) and "\n" not in str(err.value)


def test_anls_truth_must_be_exactly_0_or_1(tmp_path):
    write_anls(tmp_path, _pairs(2), truths=[1, 0])
    (tmp_path / "pairs_gt.txt").write_text("1\n0.6\n")
    with pytest.raises(FormatError, match="line 2.*0.6"):
        read_anls(tmp_path, with_truth=True)


@pytest.mark.parametrize("weight", ["-1", "nan", "inf", "1e308"])
def test_bad_pairmeta_weights_name_the_file_and_line(tmp_path, weight):
    """Case 9: such weights crashed evaluation or gave a weighted accuracy of 1.000."""
    write_tuebingen(tmp_path, _pairs(), truths=[1, 0, 1])
    lines = (tmp_path / "pairmeta.txt").read_text().splitlines()
    lines[1] = f"0002 1 1 2 2 {weight}"
    (tmp_path / "pairmeta.txt").write_text("\n".join(lines) + "\n")
    recs = read_tuebingen(tmp_path, with_truth=True)
    assert [status_code(r.status) for r in recs] == ["ok", "bad_pairmeta", "ok"]
    assert "pairmeta.txt line 2" in recs[1].status and weight in recs[1].status


def test_all_zero_pairmeta_weights_are_an_error(tmp_path):
    write_tuebingen(tmp_path, _pairs(), truths=[1, 0, 1], weights=[0, 0, 0])
    with pytest.raises(FormatError, match="every weight is 0") as err:
        read_tuebingen(tmp_path, with_truth=True)
    assert "pairmeta.txt" in str(err.value)


def test_cepc_nul_bytes_and_huge_lines_are_refused_without_reading_them_whole(tmp_path, monkeypatch):
    """Case 15: NUL padding, and lines beyond the documented bound, are refused while streaming."""
    import ncc.formats.cepc

    c = tmp_path / "c.csv"
    c.write_bytes(b"SampleID,A,B\np1,1 2 3,4 5 6\np2" + b"\x00" * 5000 + b",1 2,3 4\n")
    with pytest.raises(FormatError, match="line 3 contains NUL"):
        read_cepc(c)
    monkeypatch.setattr(ncc.formats.cepc, "MAX_LINE_CHARS", 1000)  # the module that reads it
    c.write_text("SampleID,A,B\np1," + " ".join(["1"] * 600) + "," + " ".join(["2"] * 600) + "\n")
    with pytest.raises(FormatError, match="line 2 is longer than 1000"):
        read_cepc(c)
    c.write_text("SampleID,A,B\n" + "x" * 300 + ",1 2,3 4\n")
    with pytest.raises(FormatError, match="SampleID is longer"):
        read_cepc(c)
