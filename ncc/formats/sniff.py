"""Parsing small numeric text tables: separator sniffing, missing-value tokens, header and index columns.

Shared by the Tübingen, AN/LS and two-column readers (and ``ncc.tables``'s value parser).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from ncc.formats.records import FormatError, PairRecord
from ncc.formats.status import OK, PairStatus, StatusCode

# Tokens that mean "missing" in files written by R, pandas or spreadsheets: read as NaN so
# the row is dropped (and reported) by cleaning rather than failing the whole pair.
_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


def _to_float(token: str) -> float:
    t = token.strip().strip('"').strip("'")
    if t.lower() in _MISSING:
        return float("nan")
    # Python's float() also takes "1_000" and non-ASCII digits; in a data file those are typos or
    # another notation, so they are non-numeric rather than silently some number.
    if not t.isascii() or "_" in t:
        raise ValueError(f"not a plain number: {t!r}")
    return float(t)


def _is_numeric(token: str) -> bool:
    try:
        _to_float(token)
        return True
    except ValueError:
        return False


class _BadTable(Exception):
    """Internal: a table that cannot become a pair; ``status`` is what the record gets."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _split_rows(text: str, delimiter: str | None) -> list[tuple[int, list[str]]]:
    """Non-blank, non-comment lines split into fields, with their 1-based line numbers."""
    rows = []
    if delimiter is None:
        for i, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if s and not s.startswith("#"):
                rows.append((i, s.split()))
        return rows
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    for row in reader:
        line_no = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()) or row[0].lstrip().startswith("#"):
            continue
        rows.append((line_no, [f.strip() for f in row]))
    return rows


def _sniff_delimiter(text: str) -> str | None:
    """Pick the separator of a small table from its first data lines (None = whitespace)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")][:20]
    if not lines:
        return None
    for delim in ("\t", ";", ","):
        counts = {ln.count(delim) for ln in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return delim
    return None


def _parse_table(text: str, delimiter: str | None, *, allow_header: bool = True,
                 decimal_comma: bool = False) -> tuple[np.ndarray, list[str] | None]:
    """Rows of numbers -> float array; raises _BadTable with a status naming the problem."""
    rows = _split_rows(text, delimiter)
    if not rows:
        raise _BadTable(PairStatus(StatusCode.EMPTY_FILE))
    header = None
    first = rows[0][1]
    if allow_header and not all(_is_numeric(f.replace(",", ".") if decimal_comma else f) for f in first):
        header = [f.strip().strip('"') for f in first]
        rows = rows[1:]
        if not rows:
            raise _BadTable(PairStatus(StatusCode.EMPTY_FILE, "header only"))
    width = len(header) if header is not None else len(rows[0][1])
    # R and pandas write an unnamed index column whose header is one field shorter.
    if header is not None and len(rows[0][1]) == width + 1:
        header = [""] + header
        width += 1
    for line_no, fields in rows:
        if len(fields) != width:
            raise _BadTable(PairStatus(StatusCode.UNEQUAL_LENGTHS,
                                       f"line {line_no} has {len(fields)} fields, expected {width}"))
    flat = [f for _, fields in rows for f in fields]
    if decimal_comma:
        flat = [f.replace(",", ".") for f in flat]
    try:
        values = np.array([_to_float(f) for f in flat], dtype=float)
    except ValueError:
        for line_no, fields in rows:
            for f in fields:
                if not _is_numeric(f.replace(",", ".") if decimal_comma else f):
                    raise _BadTable(PairStatus(StatusCode.NON_NUMERIC, f"line {line_no}: {f[:30]!r}")) from None
        raise  # pragma: no cover - the loop above always finds the culprit
    return values.reshape(len(rows), width), header


def _drop_index_column(table: np.ndarray, header: list[str] | None) -> np.ndarray:
    """Remove a leading row-index column (unnamed in the header, or counting 0.. / 1..)."""
    if table.shape[1] < 3:
        return table
    col = table[:, 0]
    unnamed = header is not None and header[0].strip().strip('"') == ""
    n = len(col)
    counting = bool(np.all(np.isfinite(col))) and (
        np.array_equal(col, np.arange(1, n + 1)) or np.array_equal(col, np.arange(n)))
    return table[:, 1:] if (unnamed or counting) else table


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _load_table(path: Path, *, delimiter: str | None = None, sniff: bool = True,
                index_column: bool = False, guess_index: bool = True) -> tuple[np.ndarray | None, str]:
    """Read one file as a numeric table; returns (table, OK) or (None, status).

    ``guess_index=False`` keeps every column (pairmeta.txt column numbers count them all)."""
    try:
        text = _read_text(path)
    except OSError as exc:
        return None, PairStatus(StatusCode.UNREADABLE, str(exc.strerror or exc))
    delim = _sniff_delimiter(text) if sniff else delimiter
    # "1,5;2,3" is a semicolon file with decimal commas (spreadsheets in many locales).
    decimal_comma = delim == ";" and "," in text and "." not in text
    try:
        table, header = _parse_table(text, delim, decimal_comma=decimal_comma)
    except _BadTable as bad:
        return None, bad.status
    if index_column and table.shape[1] == 3:
        table = table[:, 1:]
    elif guess_index:
        table = _drop_index_column(table, header)
    return table, OK


def _record_from_table(pair_id: str, path: Path, table: np.ndarray | None, status: str) -> PairRecord:
    """A two-column table becomes a pair; anything else gets a status saying why not."""
    if table is None:
        return PairRecord(pair_id, None, status=status, source=str(path))
    if table.shape[1] == 1:
        return PairRecord(pair_id, None, status=PairStatus(StatusCode.UNEQUAL_LENGTHS, "only one column"),
                          source=str(path))
    if table.shape[1] > 2:
        return PairRecord(pair_id, None, status=PairStatus(StatusCode.MULTIVARIATE, f"{table.shape[1]} columns"),
                          source=str(path))
    return PairRecord(pair_id, table, status=OK, source=str(path))


def _numbered_files(root: Path, pattern: re.Pattern) -> list[tuple[int, Path]]:
    if not root.is_dir():
        raise FormatError(f"folder not found: {root}")
    found = []
    for q in root.iterdir():
        m = pattern.match(q.name)
        if m and q.is_file():
            found.append((int(m.group(1)), q))
    if not found:
        raise FormatError(f"{root}: no files matching {pattern.pattern}")
    return sorted(found)
