"""Whole tables: score two named columns, or every pair of numeric columns.

    >>> import ncc
    >>> ncc.score_table(df)                      # every pair of numeric columns, one row per pair
    >>> ncc.score_table(df, x="income", y="age") # one pair
    $ ncc score table.csv --x income --y age
    $ ncc score table.csv --all-pairs -o pairs.csv

Each output row is ``x, y, score, p_none, n_points, status``: ``score`` is P(x → y); ``p_none``
is P(no causal link) from the link model (:func:`no_link_probability`). Rows with a missing value in either column are
dropped for that pair only (the status says how many); non-numeric columns are listed as skipped.

Tables come from CSV/TSV files (numpy and the csv module only), Parquet files (with pyarrow) or
pandas DataFrames (pandas is optional: only :func:`score_table` and DataFrame input need it).
"""
from __future__ import annotations

import csv
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ncc.formats import MAX_LINE_CHARS, PairStatus, StatusCode, _to_float
from ncc.scoring import checked_score, cleaning_status, direction_of

#: Pairs per scoring call in all-pairs mode: each call is batched, and the progress bar moves once a call.
CHUNK_PAIRS = 64
OUTPUT_COLUMNS = ("x", "y", "score", "p_none", "n_points", "status")
TABLE_FORMATS = ("csv", "tsv", "parquet")


class TableError(ValueError):
    """The table as a whole cannot be scored; the message names the file (or "DataFrame")."""


@dataclass
class Table:
    """Numeric columns (float, NaN where missing) of a table, in file order, and the others."""

    source: str
    n_rows: int
    columns: dict[str, np.ndarray]
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why it is not scored
    order: list[str] = field(default_factory=list)  # every column name, in table order

    @property
    def names(self) -> list[str]:
        return self.order or list(self.columns) + list(self.skipped)


@dataclass
class TableRow:
    """One output row: the pair (x, y) of column names and its result."""

    x: str
    y: str
    score: Optional[float]
    p_none: Optional[float]
    n_points: Optional[int]
    status: PairStatus

    @property
    def direction(self) -> str:
        return direction_of(self.score)


# ----------------------------------------------------------------------------- reading
def table_format(path: Path, format: Optional[str] = None) -> str:
    """csv, tsv or parquet: ``format`` if given, else from the suffix (unknown suffixes: csv)."""
    if format is not None:
        key = format.strip().lower()
        if key not in TABLE_FORMATS:
            raise TableError(f"unknown table format {format!r}; known: {', '.join(TABLE_FORMATS)}")
        return key
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "csv"


def read_table(path: str | os.PathLike, format: Optional[str] = None) -> Table:
    """Read a CSV/TSV (header row of column names) or Parquet file into a :class:`Table`."""
    path = Path(path)
    if path.is_dir():
        raise TableError(f"{path} is a folder; a table is one CSV, TSV or Parquet file")
    if not path.is_file():
        raise TableError(f"table not found: {path}")
    fmt = table_format(path, format)
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_delimited(path, "\t" if fmt == "tsv" else None)


def _sniff(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_delimited(path: Path, delimiter: Optional[str]) -> Table:
    csv.field_size_limit(MAX_LINE_CHARS)
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline(MAX_LINE_CHARS)
            if "\x00" in first:
                raise TableError(f"{path}: contains NUL bytes (not a text table)")
            delim = delimiter or _sniff(first)
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delim, skipinitialspace=True)
            rows = []
            header = None
            for row in reader:
                if not row or all(not f.strip() for f in row):
                    continue
                if header is None:
                    header = [f.strip() for f in row]
                    continue
                if len(row) != len(header):
                    raise TableError(f"{path}: line {reader.line_num} has {len(row)} fields, the header has "
                                     f"{len(header)}")
                rows.append(row)
    except csv.Error as exc:
        raise TableError(f"{path}: not a readable table ({exc})") from None
    except OSError as exc:
        raise TableError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header is None or not rows:
        raise TableError(f"{path}: the table is empty (no data rows)")
    _check_names(header, path)
    columns, skipped = {}, {}
    for j, name in enumerate(header):
        values, bad = _numeric_column([r[j] for r in rows])
        if bad is None:
            columns[name] = values
        else:
            skipped[name] = f"non-numeric (e.g. {bad[:30]!r})"
    return Table(str(path), len(rows), columns, skipped, list(header))


def _numeric_column(tokens: Sequence[str]) -> tuple[Optional[np.ndarray], Optional[str]]:
    """(float values with NaN for missing tokens, None) or (None, the first non-numeric token)."""
    out = np.empty(len(tokens))
    for i, token in enumerate(tokens):
        try:
            out[i] = _to_float(token)
        except ValueError:
            return None, token.strip()
    return out, None


def _check_names(header: Sequence[str], source) -> None:
    seen = set()
    for i, name in enumerate(header, 1):
        if not name:
            raise TableError(f"{source}: column {i} has no name in the header")
        if name in seen:
            raise TableError(f"{source}: column name {name!r} appears twice in the header")
        seen.add(name)


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TableError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        arrow = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise TableError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
    import pyarrow.types as pat

    if arrow.num_rows == 0:
        raise TableError(f"{path}: the table is empty (no data rows)")
    _check_names(arrow.column_names, path)
    columns, skipped = {}, {}
    for name in arrow.column_names:
        col = arrow.column(name)
        if (pat.is_integer(col.type) or pat.is_floating(col.type) or pat.is_decimal(col.type)):
            columns[name] = np.array(col.to_pylist(), dtype=float)  # None (null) -> nan
        else:
            skipped[name] = f"non-numeric ({col.type})"
    return Table(str(path), arrow.num_rows, columns, skipped, list(arrow.column_names))


def table_from_dataframe(df, source: str = "DataFrame") -> Table:
    """A pandas DataFrame as a :class:`Table` (numeric dtypes are scored, booleans and the rest skipped)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    names = [str(c) for c in df.columns]
    _check_names(names, source)
    if len(df) == 0:
        raise TableError(f"{source}: the table is empty (no data rows)")
    columns, skipped = {}, {}
    for name, col in zip(names, df.columns):
        series = df[col]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            skipped[name] = f"non-numeric ({series.dtype})"
        else:
            columns[name] = series.to_numpy(dtype=float, na_value=np.nan)
    return Table(source, len(df), columns, skipped, names)


# ----------------------------------------------------------------------------- choosing pairs
def select_pairs(table: Table, x: Optional[str] = None, y: Optional[str] = None) -> list[tuple[str, str]]:
    """The (x, y) pairs to score: the named one, or every pair of numeric columns (x before y
    in table order). Raises :class:`TableError` with a one-line reason."""
    if (x is None) != (y is None):
        raise TableError("give both x and y (or neither, for every pair of numeric columns)")
    if x is not None:
        for name in (x, y):
            if name in table.skipped:
                raise TableError(f"{table.source}: column {name!r} is {table.skipped[name]}")
            if name not in table.columns:
                raise TableError(f"{table.source}: unknown column {name!r}; available: {', '.join(table.names)}")
            if not np.isfinite(table.columns[name]).any():
                raise TableError(f"{table.source}: column {name!r} is all missing")
        if x == y:
            raise TableError(f"{table.source}: x and y are the same column {x!r}")
        return [(x, y)]
    usable = [n for n, v in table.columns.items() if np.isfinite(v).any()]
    for name in table.columns:
        if name not in usable:
            table.skipped[name] = "all missing"
    if len(usable) < 2:
        skipped = "; ".join(f"{n}: {why}" for n, why in table.skipped.items()) or "none"
        raise TableError(f"{table.source}: fewer than two numeric columns to pair (numeric: "
                         f"{', '.join(usable) or 'none'}; skipped: {skipped})")
    return list(itertools.combinations(usable, 2))


# ----------------------------------------------------------------------------- scoring
def no_link_probability(link_model, pairs: Sequence[np.ndarray], random_state: int = 0) -> Optional[np.ndarray]:
    """P(no causal link) for each pair, from the link model (:func:`ncc.api.link_scores`; ``None``:
    the shipped one). The only place ``p_none`` is computed."""
    from ncc.api import link_scores

    return link_scores(list(pairs), link_model, random_state=random_state)


def _clean_pair(a: np.ndarray, b: np.ndarray, min_points: int) -> tuple[Optional[np.ndarray], PairStatus, int]:
    """(data or None, status, n_points) after dropping the rows where either value is missing."""
    keep = np.isfinite(a) & np.isfinite(b)
    dropped = int((~keep).sum())
    data = np.column_stack([a[keep], b[keep]])
    note = f"dropped {dropped} row{'s' if dropped != 1 else ''} with missing values" if dropped else ""
    constant = [c for c, v in zip("xy", (data[:, 0], data[:, 1])) if len(v) and v.max() == v.min()]
    status = cleaning_status(len(data), min_points, constant, note)
    return (None if status.code is StatusCode.TOO_FEW_POINTS else data), status, len(data)


def score_table_pairs(table: Table, pairs: Sequence[tuple[str, str]], scorer: Callable, *, link_model=None,
                      with_link: bool = True, random_state: int = 0, min_points: int = 10,
                      progress: Optional[Callable[[int], None]] = None) -> list[TableRow]:
    """Score ``pairs`` of ``table`` with ``scorer`` (list of (n, 2) arrays -> P(first causes second))
    and, if ``with_link``, P(no link) with ``link_model``, in batched calls of :data:`CHUNK_PAIRS`
    pairs; ``progress(k)`` after each call."""
    rows: list[TableRow] = []
    for start in range(0, len(pairs), CHUNK_PAIRS):
        chunk = pairs[start:start + CHUNK_PAIRS]
        cleaned = [(a, b, *_clean_pair(table.columns[a], table.columns[b], min_points)) for a, b in chunk]
        todo = [data for _, _, data, status, _ in cleaned if status.code is StatusCode.OK]
        scores = np.asarray(scorer(todo), dtype=float) if todo else np.empty(0)
        p_none = no_link_probability(link_model, todo, random_state) if todo and with_link else None
        k = 0
        for a, b, data, status, n in cleaned:
            if status.code is StatusCode.OK:
                value, status = checked_score(float(scores[k]), status)
                link = None if p_none is None or value is None else float(p_none[k])
                k += 1
                rows.append(TableRow(a, b, value, link, n, status))
            elif status.code is StatusCode.CONSTANT:
                rows.append(TableRow(a, b, 0.5, None, n, status))
            else:
                rows.append(TableRow(a, b, None, None, n, status))
        if progress is not None:
            progress(len(chunk))
    return rows


def rows_to_csv(rows: Sequence[TableRow]) -> str:
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OUTPUT_COLUMNS)
    for r in rows:
        w.writerow([r.x, r.y, "" if r.score is None else f"{r.score:.6f}",
                    "" if r.p_none is None else f"{r.p_none:.6f}", "" if r.n_points is None else r.n_points, r.status])
    return buf.getvalue()


def score_table(df, x: Optional[str] = None, y: Optional[str] = None, *, model=None, link_model=None,
                min_points: int = 10, random_state: int = 0, progress: bool = False):
    """Score the columns of a pandas DataFrame: the pair (``x``, ``y``), or every pair of numeric columns.

    Returns a DataFrame with the columns ``x, y, score, p_none, n_points, status`` (one row per
    pair; ``score`` = P(x → y), NaN when the pair was not scored; ``p_none`` = P(no causal link)
    from ``link_model`` (None: the shipped link model), symmetric in x and y, NaN where not scored
    and for a constant column). ``result.attrs["skipped_columns"]`` maps each column left out to the reason.
    Raises :class:`TableError` (a ValueError) for unknown or non-numeric named columns, an empty
    table, an all-missing named column, or fewer than two numeric columns; ImportError without pandas.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("ncc.score_table needs pandas (pip install pandas); `ncc score TABLE.csv "
                          "--all-pairs` works without it") from None
    from ncc.scoring import ncc_scorer

    table = table_from_dataframe(df)
    pairs = select_pairs(table, x, y)
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="pair", file=sys.stderr)
    try:
        rows = score_table_pairs(table, pairs, ncc_scorer(model, random_state=random_state), link_model=link_model,
                                 random_state=random_state, min_points=min_points,
                                 progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    out = pd.DataFrame({
        "x": [r.x for r in rows], "y": [r.y for r in rows],
        "score": np.array([np.nan if r.score is None else r.score for r in rows], dtype=float),
        "p_none": np.array([np.nan if r.p_none is None else r.p_none for r in rows], dtype=float),
        "n_points": pd.array([r.n_points for r in rows], dtype="Int64"),
        "status": [r.status for r in rows],
    })
    out.attrs["skipped_columns"] = dict(table.skipped)
    return out
