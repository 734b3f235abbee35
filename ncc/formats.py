"""Readers and writers for cause-effect pair files (numpy only: no torch here).

Supported layouts (see ``shared/data/README.md``):

* ``cepc``       -- ChaLearn cause-effect pairs CSV used by CDT: ``SampleID,A,B`` with the
  values of A and B space-separated inside each field; optional targets CSV
  ``SampleID,Target`` (+1: A->B, -1: B->A, 0: no link).
* ``tuebingen``  -- Tübingen / Mooij folder: ``pairNNNN.txt`` (whitespace-separated columns,
  no header) and optional ``pairmeta.txt``
  (``pair cause_first cause_last effect_first effect_last weight``, 1-based columns).
* ``anls``       -- AN/LS folder of Tagasovska et al.: ``pair_N.txt`` (CSV, header, index
  column) and optional ``pairs_gt.txt`` (line N = truth of pair_N).
* ``two-column`` -- one text/CSV file, whitespace, comma, semicolon or tab separated,
  optional header.

Readers are tolerant: a broken pair comes back as a :class:`PairRecord` whose ``status``
names the problem, and every other pair is read as usual. Ground truth is opt-in
(``with_truth=True``) so that scoring can never look at it.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from synthetic.pairs import as_pair_array

FORMATS = ("cepc", "tuebingen", "anls", "two-column")
# Spellings people use for the same layouts; the canonical names are in FORMATS.
_ALIASES = {
    "cepc": "cepc",
    "cdt": "cepc",
    "tuebingen": "tuebingen",
    "tubingen": "tuebingen",
    "mooij": "tuebingen",
    "anls": "anls",
    "an-ls": "anls",
    "two-column": "two-column",
    "two_column": "two-column",
    "twocolumn": "two-column",
    "text": "two-column",
}

# Tokens that mean "missing" in files written by R, pandas or spreadsheets: read as NaN so
# the row is dropped (and reported) by cleaning rather than failing the whole pair.
_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}

#: Longest line of a pair file (characters): a CEPC field holds a whole variable, ~2.5 million
#: values at this size. Longer lines, and NUL bytes, mean a damaged or hostile file.
MAX_LINE_CHARS = 64 * 1024 * 1024
MAX_ID_CHARS = 256  # a SampleID is a name, not data
#: pairmeta.txt weights are relative (Tübingen's are <= 1); larger ones overflow weighted sums.
MAX_WEIGHT = 1e6

_TUEB_RE = re.compile(r"^pair(\d+)\.txt$", re.IGNORECASE)
_ANLS_RE = re.compile(r"^pair_(\d+)\.txt$", re.IGNORECASE)


class FormatError(ValueError):
    """The input as a whole cannot be read (unknown format, missing path, no pair files)."""


@dataclass
class PairRecord:
    """One cause-effect pair as read from disk.

    ``data`` is an ``(n, 2)`` float array (first column = first variable) or ``None`` when the
    pair cannot be scored; ``status`` is ``"ok"`` or a short code saying why (first word is
    the code, an optional parenthesis gives details). ``truth`` is 1 when the first column
    causes the second, 0 for the reverse, ``None`` when unknown or not requested. ``linked``
    is False for a pair known to have no causal link (CEPC target 0; its ``truth`` is None),
    True for a CEPC target of ±1, None when the file does not say.
    """

    pair_id: str
    data: np.ndarray | None
    truth: int | None = None
    weight: float = 1.0
    status: str = "ok"
    source: str = ""
    linked: bool | None = None

    @property
    def n_points(self) -> int | None:
        return None if self.data is None else int(self.data.shape[0])


def status_code(status: str) -> str:
    """The machine-readable part of a status: ``"ok (dropped 3 rows)"`` -> ``"ok"``."""
    return status.split(" ", 1)[0]


def normalize_format(name: str) -> str:
    key = name.strip().lower()
    if key not in _ALIASES:
        raise FormatError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}")
    return _ALIASES[key]


# --------------------------------------------------------------------------- parsing helpers
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
        raise _BadTable("empty_file")
    header = None
    first = rows[0][1]
    if allow_header and not all(_is_numeric(f.replace(",", ".") if decimal_comma else f) for f in first):
        header = [f.strip().strip('"') for f in first]
        rows = rows[1:]
        if not rows:
            raise _BadTable("empty_file (header only)")
    width = len(header) if header is not None else len(rows[0][1])
    # R and pandas write an unnamed index column whose header is one field shorter.
    if header is not None and len(rows[0][1]) == width + 1:
        header = [""] + header
        width += 1
    for line_no, fields in rows:
        if len(fields) != width:
            raise _BadTable(f"unequal_lengths (line {line_no} has {len(fields)} fields, expected {width})")
    flat = [f for _, fields in rows for f in fields]
    if decimal_comma:
        flat = [f.replace(",", ".") for f in flat]
    try:
        values = np.array([_to_float(f) for f in flat], dtype=float)
    except ValueError:
        for line_no, fields in rows:
            for f in fields:
                if not _is_numeric(f.replace(",", ".") if decimal_comma else f):
                    raise _BadTable(f"non_numeric (line {line_no}: {f[:30]!r})") from None
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
    """Read one file as a numeric table; returns (table, "ok") or (None, status).

    ``guess_index=False`` keeps every column (pairmeta.txt column numbers count them all)."""
    try:
        text = _read_text(path)
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
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
    return table, "ok"


def _record_from_table(pair_id: str, path: Path, table: np.ndarray | None, status: str) -> PairRecord:
    """A two-column table becomes a pair; anything else gets a status saying why not."""
    if table is None:
        return PairRecord(pair_id, None, status=status, source=str(path))
    if table.shape[1] == 1:
        return PairRecord(pair_id, None, status="unequal_lengths (only one column)", source=str(path))
    if table.shape[1] > 2:
        return PairRecord(pair_id, None, status=f"multivariate ({table.shape[1]} columns)", source=str(path))
    return PairRecord(pair_id, table, status="ok", source=str(path))


# --------------------------------------------------------------------------- CEPC
def _parse_cepc_values(field: str) -> np.ndarray:
    # CDT writes "1.0 2.0 ..."; some dumps wrap them in brackets or use commas inside quotes.
    body = field.strip().strip("[]")
    tokens = [t for t in re.split(r"[\s,;]+", body) if t]
    return np.array([_to_float(t) for t in tokens], dtype=float)


def read_cepc_targets(targets_csv: str | os.PathLike) -> dict[str, int]:
    """``SampleID,Target`` -> {pair_id: target in {+1, -1, 0}}."""
    path = Path(targets_csv)
    if not path.is_file():
        raise FormatError(f"targets file not found: {path}")
    targets: dict[str, int] = {}
    lines: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for i, row in enumerate(csv.reader(_Lines(fh, path)), 1):
            if not row or not row[0].strip():
                continue
            if i == 1 and not _is_numeric(row[-1]):
                continue  # header
            if len(row) < 2:
                raise FormatError(f"{path}: line {i}: expected 'SampleID,Target'")
            try:
                number = _to_float(row[1])
            except ValueError:
                raise FormatError(f"{path}: line {i}: target {row[1]!r} is not a number") from None
            if number not in (-1.0, 0.0, 1.0):  # exact: rounding 0.6 to 1 would invent a direction
                raise FormatError(f"{path}: line {i}: target must be +1, -1 or 0, got {row[1].strip()!r}")
            key = row[0].strip()
            if key in targets:
                raise FormatError(f"{path}: line {i}: SampleID {key!r} is given a target twice (first on line "
                                  f"{lines[key]})")
            targets[key], lines[key] = int(number), i
    return targets


class _Lines:
    """Lines of a text file, read one at a time with a length bound and no NUL bytes (a 2 GB
    line of padding is refused after 64 MiB, not read whole); knows if the last one was ended."""

    def __init__(self, fh, path: Path):
        self.fh, self.path, self.line_no, self.ended = fh, path, 0, True

    def __iter__(self):
        while True:
            line = self.fh.readline(MAX_LINE_CHARS + 1)
            if not line:
                return
            self.line_no += 1
            if len(line) > MAX_LINE_CHARS:
                raise FormatError(f"{self.path}: line {self.line_no} is longer than {MAX_LINE_CHARS} characters")
            if "\x00" in line:
                raise FormatError(f"{self.path}: line {self.line_no} contains NUL bytes (not a text file)")
            self.ended = line.endswith(("\n", "\r"))
            yield line


def _cepc_rows(path: Path):
    """``(line number, fields)`` of a CSV, streamed; a quote left open at the end is an error."""
    csv.field_size_limit(MAX_LINE_CHARS)  # one field holds a whole variable
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        lines = _Lines(fh, path)
        reader = csv.reader(lines, strict=True)
        try:
            for row in reader:
                yield reader.line_num, row, lines.ended
        except csv.Error as exc:
            raise FormatError(f"{path}: line {reader.line_num}: {exc} (is the file cut short?)") from None


def read_cepc(pairs_csv: str | os.PathLike, targets_csv: str | os.PathLike | None = None) -> list[PairRecord]:
    """Read a CEPC pairs CSV; truth comes only from ``targets_csv`` (target 0, no link -> None)."""
    path = Path(pairs_csv)
    if not path.is_file():
        raise FormatError(f"file not found: {path}")
    records: list[PairRecord] = []
    rows = _cepc_rows(path)
    first = next(rows, None)
    if first is None:
        return records
    header = [h.strip().lower() for h in first[1]]
    try:
        i_id, i_a, i_b = header.index("sampleid"), header.index("a"), header.index("b")
    except ValueError:
        raise FormatError(f"{path}: not a CEPC file (header must name SampleID, A and B)") from None
    first_line: dict[str, int] = {}
    duplicated: set[str] = set()
    for line_no, row, ended in rows:
        if not row or not any(f.strip() for f in row):
            continue
        pair_id = row[i_id].strip() if i_id < len(row) else f"line{line_no}"
        if len(pair_id) > MAX_ID_CHARS:
            raise FormatError(f"{path}: line {line_no}: SampleID is longer than {MAX_ID_CHARS} characters")
        if pair_id in first_line:
            duplicated.add(pair_id)
        first_line.setdefault(pair_id, line_no)
        records.append(_cepc_record(path, pair_id, row, line_no, (i_a, i_b), ended))
    for rec in records:
        if rec.pair_id in duplicated:  # which row would a target belong to? neither is scored
            rec.data = None
            rec.status = f"duplicate_id (SampleID {rec.pair_id!r} is on several lines, first {first_line[rec.pair_id]})"
    if targets_csv is not None:
        targets = read_cepc_targets(targets_csv)
        for rec in records:
            t = targets.get(rec.pair_id)
            rec.truth = None if t in (None, 0) else int(t == 1)
            rec.linked = None if t is None else t != 0
    return records


def _cepc_record(path: Path, pair_id: str, row: list[str], line_no: int, cols: tuple[int, int],
                 ended: bool) -> PairRecord:
    i_a, i_b = cols
    if not ended:  # tools end every row with a newline; a last row without one was cut off
        return PairRecord(pair_id, None, status=f"truncated (line {line_no}: no newline at the end of the file)",
                          source=str(path))
    if len(row) <= max(i_a, i_b):
        return PairRecord(pair_id, None, status=f"unequal_lengths (line {line_no}: missing fields)",
                          source=str(path))
    try:
        a, b = _parse_cepc_values(row[i_a]), _parse_cepc_values(row[i_b])
    except ValueError:
        return PairRecord(pair_id, None, status=f"non_numeric (line {line_no})", source=str(path))
    if a.size == 0 and b.size == 0:
        return PairRecord(pair_id, None, status="empty_file (no values)", source=str(path))
    if a.size != b.size:
        return PairRecord(pair_id, None, status=f"unequal_lengths (A has {a.size}, B has {b.size})",
                          source=str(path))
    return PairRecord(pair_id, np.column_stack([a, b]), source=str(path))


def write_cepc(pairs_csv: str | os.PathLike, pair_ids: Sequence[str], pairs: Sequence[np.ndarray],
               targets_csv: str | os.PathLike | None = None, targets: Sequence[int] | None = None, *,
               truths: Sequence[int | None] | None = None) -> None:
    """Write pairs (each ``(n, 2)``) as CEPC CSV, and optionally the targets CSV.

    ``targets`` are CEPC values (+1: A->B, -1: B->A, 0: no link); alternatively pass
    ``truths`` in this module's convention (1: first column causes second, 0: reverse,
    None: unknown/no link). Values are written with 17 significant digits (lossless).
    """
    if len(pair_ids) != len(pairs):
        raise ValueError("pair_ids and pairs must have the same length")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["SampleID", "A", "B"])
    for pid, pair in zip(pair_ids, pairs):
        arr = _as_pair(pair)
        w.writerow([pid, _join(arr[:, 0]), _join(arr[:, 1])])
    _atomic_write(Path(pairs_csv), out.getvalue())
    if targets is not None and truths is not None:
        raise ValueError("give targets or truths, not both")
    if truths is not None:
        targets = [0 if t is None else (1 if int(t) == 1 else -1) for t in truths]
    if targets is not None or targets_csv is not None:
        if targets is None or targets_csv is None:
            raise ValueError("targets_csv and targets (or truths) go together")
        if len(targets) != len(pair_ids):
            raise ValueError("one target per pair is needed")
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["SampleID", "Target"])
        for pid, t in zip(pair_ids, targets):
            if int(t) not in (-1, 0, 1):
                raise ValueError(f"CEPC targets are +1, -1 or 0, got {t!r}")
            w.writerow([pid, int(t)])
        _atomic_write(Path(targets_csv), out.getvalue())


# --------------------------------------------------------------------------- Tübingen / Mooij
def _read_pairmeta(path: Path) -> dict[str, tuple[int, int, int, int, float] | str]:
    """pair number -> (cause_first, cause_last, effect_first, effect_last, weight), or a status
    string for a malformed line (that pair is skipped; the others keep their metadata)."""
    meta: dict[str, tuple[int, int, int, int, float] | str] = {}
    for i, line in enumerate(_read_text(path).splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            key = str(int(fields[0]))
        except ValueError:
            continue  # cannot tell which pair the line is about
        try:
            if len(fields) < 5:
                raise ValueError
            c1, c2, e1, e2 = (int(f) for f in fields[1:5])
            weight = _to_float(fields[5]) if len(fields) > 5 else 1.0
        except ValueError:
            meta[key] = f"bad_pairmeta (pairmeta.txt line {i}: {line.strip()[:40]!r})"
            continue
        if not 0.0 <= weight <= MAX_WEIGHT:  # NaN fails this too
            meta[key] = f"bad_pairmeta ({path} line {i}: weight {fields[5]!r} is not in [0, {MAX_WEIGHT:g}])"
        else:
            meta[key] = (c1, c2, e1, e2, weight)
    weights = [m[4] for m in meta.values() if isinstance(m, tuple)]
    if weights and not any(weights):
        raise FormatError(f"{path}: every weight is 0, so no pair would count")
    return meta


def _apply_meta(pair_id: str, path: Path, table: np.ndarray | None, status: str,
                meta: tuple[int, int, int, int, float], with_truth: bool) -> PairRecord:
    """Use pairmeta's column spans (and, only if asked, its direction) on one table."""
    c1, c2, e1, e2, weight = meta
    truth = int(c1 < e1) if with_truth else None
    if c1 != c2 or e1 != e2:
        status = f"multivariate (cause columns {c1}-{c2}, effect columns {e1}-{e2})"
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    if table is None:
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    if min(c1, e1) < 1 or max(c1, e1) > table.shape[1] or c1 == e1:
        status = f"bad_pairmeta (cause column {c1}, effect column {e1}, file has {table.shape[1]} columns)"
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    # Data stay in file order (first = lower column); only the truth says which causes which.
    lo, hi = sorted((c1, e1))
    return PairRecord(pair_id, table[:, [lo - 1, hi - 1]], truth, weight, "ok", str(path))


def read_tuebingen(folder: str | os.PathLike, *, with_truth: bool = False) -> list[PairRecord]:
    """Read ``pairNNNN.txt`` files (+ ``pairmeta.txt`` for spans, weights and, if asked, truth)."""
    root = Path(folder)
    files = _numbered_files(root, _TUEB_RE)
    meta_path = root / "pairmeta.txt"
    meta = _read_pairmeta(meta_path) if meta_path.is_file() else {}
    records = []
    for number, path in files:
        entry = meta.get(str(number))
        # With pairmeta its column numbers are the truth: a column counting 1..n is data, not an index.
        table, status = _load_table(path, delimiter=None, sniff=False, guess_index=not isinstance(entry, tuple))
        if isinstance(entry, str):
            records.append(PairRecord(path.stem, None, status=entry, source=str(path)))
        elif entry is not None:
            records.append(_apply_meta(path.stem, path, table, status, entry, with_truth))
        else:
            records.append(_record_from_table(path.stem, path, table, status))
    return records


def write_tuebingen(folder: str | os.PathLike, pairs: Sequence[np.ndarray],
                    truths: Sequence[int] | None = None, weights: Sequence[float] | None = None) -> list[str]:
    """Write ``pair0001.txt`` ... and (when truths are given) ``pairmeta.txt``; returns the ids.

    Truth 1 (column 1 causes column 2) -> meta ``1 1 2 2 w``; truth 0 -> ``2 2 1 1 w``.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    if truths is not None and len(truths) != len(pairs):
        raise ValueError("one truth per pair is needed")
    if weights is not None and len(weights) != len(pairs):
        raise ValueError("one weight per pair is needed")
    ids, meta_lines = [], []
    for i, pair in enumerate(pairs, 1):
        arr = _as_pair(pair)
        pid = f"pair{i:04d}"
        _atomic_write(root / f"{pid}.txt", "".join(f"{_fmt(a)} {_fmt(b)}\n" for a, b in arr))
        ids.append(pid)
        if truths is not None:
            cols = "1 1 2 2" if int(truths[i - 1]) == 1 else "2 2 1 1"
            w = 1.0 if weights is None else float(weights[i - 1])
            meta_lines.append(f"{i:04d} {cols} {_fmt(w)}\n")
    if truths is not None:
        _atomic_write(root / "pairmeta.txt", "".join(meta_lines))
    return ids


# --------------------------------------------------------------------------- AN / LS
def read_anls(folder: str | os.PathLike, *, with_truth: bool = False) -> list[PairRecord]:
    """Read ``pair_N.txt`` CSVs (header + index column) and, if asked, ``pairs_gt.txt``."""
    root = Path(folder)
    files = _numbered_files(root, _ANLS_RE)
    truths: list[int | None] = []
    gt_path = root / "pairs_gt.txt"
    if with_truth and gt_path.is_file():
        for i, line in enumerate(_read_text(gt_path).splitlines(), 1):
            s = line.strip()
            if not s:
                truths.append(None)
                continue
            try:
                v = _to_float(s.split()[0])
            except ValueError:
                raise FormatError(f"{gt_path}: line {i}: {s[:30]!r} is not 0 or 1") from None
            if v not in (0.0, 1.0):  # exact: 0.6 is not a direction
                raise FormatError(f"{gt_path}: line {i}: truth must be 0 or 1, got {s.split()[0][:30]!r}")
            truths.append(int(v))
    records = []
    for number, path in files:
        rec = _record_from_table(path.stem, path, *_load_table(path, index_column=True))
        if with_truth and 1 <= number <= len(truths):
            rec.truth = truths[number - 1]
        records.append(rec)
    return records


def write_anls(folder: str | os.PathLike, pairs: Sequence[np.ndarray],
               truths: Sequence[int] | None = None) -> list[str]:
    """Write ``pair_1.txt`` ... in the AN/LS layout and (when truths are given) ``pairs_gt.txt``."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    for i, pair in enumerate(pairs, 1):
        arr = _as_pair(pair)
        lines = ['"","x_pa","x_child"\n'] + [f'"{j}",{_fmt(a)},{_fmt(b)}\n' for j, (a, b) in enumerate(arr, 1)]
        _atomic_write(root / f"pair_{i}.txt", "".join(lines))
        ids.append(f"pair_{i}")
    if truths is not None:
        if len(truths) != len(pairs):
            raise ValueError("one truth per pair is needed")
        _atomic_write(root / "pairs_gt.txt", "".join(f"{int(t)}\n" for t in truths))
    return ids


# --------------------------------------------------------------------------- single file
def read_two_column(path: str | os.PathLike) -> list[PairRecord]:
    """One file, one pair (separator sniffed, optional header, optional index column)."""
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"file not found: {p}")
    return [_record_from_table(p.stem, p, *_load_table(p))]


def write_two_column(path: str | os.PathLike, pair: np.ndarray, header: Sequence[str] | None = None) -> None:
    arr = _as_pair(pair)
    head = "" if header is None else ",".join(header) + "\n"
    _atomic_write(Path(path), head + "".join(f"{_fmt(a)},{_fmt(b)}\n" for a, b in arr))


# --------------------------------------------------------------------------- dispatch
def detect_format(path: str | os.PathLike) -> str:
    """Guess the layout of ``path``: a folder of pairNNNN / pair_N files, a CEPC CSV, or one pair."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"input not found: {p}")
    if p.is_dir():
        names = [q.name for q in p.iterdir() if q.is_file()]
        if any(_TUEB_RE.match(n) for n in names):
            return "tuebingen"
        if any(_ANLS_RE.match(n) for n in names):
            return "anls"
        raise FormatError(f"{p}: no pairNNNN.txt or pair_N.txt files; known formats: {', '.join(FORMATS)}")
    with p.open(encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline(4096)
    head = [f.strip().strip('"').lower() for f in first.split(",")]
    if head and head[0] == "sampleid":
        return "cepc"
    return "two-column"


def read_pairs(path: str | os.PathLike, format: str | None = None, *, with_truth: bool = False,
               targets: str | os.PathLike | None = None) -> list[PairRecord]:
    """Read every pair under ``path``. Truth is only loaded when ``with_truth`` is set.

    For CEPC, the targets CSV is ``targets`` or, when ``with_truth`` is set and none is
    given, ``<stem>_target.csv`` / ``<stem>_targets.csv`` beside the pairs file
    (CDT / ChaLearn naming: ``X_pairs.csv`` + ``X_targets.csv``).
    """
    fmt = detect_format(path) if format is None else normalize_format(format)
    if not Path(path).exists():
        raise FormatError(f"input not found: {path}")
    if fmt == "cepc":
        if targets is None and with_truth:
            targets = find_cepc_targets(path)
        return read_cepc(path, targets if with_truth else None)
    if Path(path).is_dir() != (fmt in ("tuebingen", "anls")):
        kind = "a folder" if fmt in ("tuebingen", "anls") else "a file"
        raise FormatError(f"{path}: format {fmt!r} expects {kind}")
    if fmt == "tuebingen":
        return read_tuebingen(path, with_truth=with_truth)
    if fmt == "anls":
        return read_anls(path, with_truth=with_truth)
    return read_two_column(path)


def find_cepc_targets(pairs_csv: str | os.PathLike) -> Path | None:
    p = Path(pairs_csv)
    stem = p.stem[: -len("_pairs")] if p.stem.lower().endswith("_pairs") else p.stem
    for name in (f"{stem}_targets.csv", f"{stem}_target.csv", f"{p.stem}_targets.csv", f"{p.stem}_target.csv"):
        cand = p.with_name(name)
        if cand.is_file():
            return cand
    return None


# --------------------------------------------------------------------------- small utilities
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


def _as_pair(pair: np.ndarray) -> np.ndarray:
    return as_pair_array(pair, "pair", min_points=0, finite=False)  # a writer keeps NaN as "nan"


def _fmt(v: float) -> str:
    return repr(float(v))  # shortest string that reads back to the same float


def _join(values: Iterable[float]) -> str:
    return " ".join(_fmt(v) for v in values)


def _atomic_write(path: Path, text: str) -> None:
    from synthetic._atomic import atomic_write_text  # the project's one writer (umask, fsync, cleanup)

    atomic_write_text(path, text)
