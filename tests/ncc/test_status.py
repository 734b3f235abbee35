"""Typed pair statuses: a StatusCode plus a detail, whose text is the CSV column as before."""
import copy
import pickle

import numpy as np
import pytest

from ncc.formats import PairRecord, PairStatus, StatusCode, status_code
from ncc.scoring import clean_record, cleaning_status


@pytest.mark.parametrize("text", ["ok", "ok (dropped 3 non-finite rows)",
                                  "too_few_points (5 < 10, after dropped 2 rows)",
                                  "non_numeric (line 3: 'x (y)')", "constant (column 1 and column 2)"])
def test_text_round_trips_and_parts_are_typed(text):
    status = PairStatus.parse(text)
    assert status == text and str(status) == text and f"{status}" == text
    assert isinstance(status.code, StatusCode) and status.code.value == text.split(" ", 1)[0]
    assert status_code(status) == status_code(text) == status.code.value
    assert pickle.loads(pickle.dumps(status)) == status and copy.deepcopy(status).code is status.code


def test_code_formats_as_its_value():
    assert f"{StatusCode.TOO_FEW_POINTS}" == str(StatusCode.TOO_FEW_POINTS) == "too_few_points"
    assert PairStatus(StatusCode.CONSTANT, "column 2").detail == "column 2"


@pytest.mark.parametrize("text", ["nonsense", "ok dropped rows", "ok ()", ""])
def test_unknown_codes_and_bad_details_are_refused(text):
    with pytest.raises(ValueError, match="status"):
        PairStatus.parse(text)


def test_records_parse_plain_strings():
    rec = PairRecord("p", None, status="empty_file (no values)")
    assert rec.status.code is StatusCode.EMPTY_FILE and rec.status.detail == "no values"


def test_cleaning_status_texts():
    assert cleaning_status(5, 10, [], "dropped 2 rows") == "too_few_points (5 < 10, after dropped 2 rows)"
    assert cleaning_status(50, 10, ["x", "y"], "") == "constant (x and y)"
    assert cleaning_status(50, 10, ["x"], "dropped 1 row").detail == "x; dropped 1 row"
    assert cleaning_status(50, 10, [], "").code is StatusCode.OK


def test_clean_record_gives_typed_status():
    data = np.column_stack([np.arange(30.0), np.arange(30.0) ** 2])
    data[0, 0] = np.nan
    c = clean_record(PairRecord("p", data))
    assert c.status.code is StatusCode.OK and c.status.detail == "dropped 1 non-finite row" and c.scorable
