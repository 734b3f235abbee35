"""CEPC (ChaLearn / CDT): ``SampleID,A,B`` with each variable's values space-separated in one field, and an
optional targets CSV ``SampleID,Target`` (+1: A->B, -1: B->A, 0: no link). The writer is the generator's
(:func:`synthetic.pair_files.write_cepc`), so ``ncc generate`` and ncc write one layout."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

from ncc.formats.records import FormatError, PairRecord
from ncc.formats.sniff import _is_numeric, _to_float
from ncc.formats.status import PairStatus, StatusCode
from synthetic.pair_files import write_cepc

__all__ = ["read_cepc", "read_cepc_targets", "write_cepc", "find_cepc_targets", "MAX_LINE_CHARS", "MAX_ID_CHARS"]

#: Longest line of a pair file (characters): a CEPC field holds a whole variable, ~2.5 million
#: values at this size. Longer lines, and NUL bytes, mean a damaged or hostile file.
#: Longest line of a pair file (characters): a CEPC field holds a whole variable, ~2.5 million
#: values at this size. Longer lines, and NUL bytes, mean a damaged or hostile file.
MAX_LINE_CHARS = 64 * 1024 * 1024
MAX_ID_CHARS = 256  # a SampleID is a name, not data


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
            rec.status = PairStatus(StatusCode.DUPLICATE_ID,
                                    f"SampleID {rec.pair_id!r} is on several lines, first {first_line[rec.pair_id]}")
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

    def unusable(code: StatusCode, detail: str) -> PairRecord:
        return PairRecord(pair_id, None, status=PairStatus(code, detail), source=str(path))

    if not ended:  # tools end every row with a newline; a last row without one was cut off
        return unusable(StatusCode.TRUNCATED, f"line {line_no}: no newline at the end of the file")
    if len(row) <= max(i_a, i_b):
        return unusable(StatusCode.UNEQUAL_LENGTHS, f"line {line_no}: missing fields")
    try:
        a, b = _parse_cepc_values(row[i_a]), _parse_cepc_values(row[i_b])
    except ValueError:
        return unusable(StatusCode.NON_NUMERIC, f"line {line_no}")
    if a.size == 0 and b.size == 0:
        return unusable(StatusCode.EMPTY_FILE, "no values")
    if a.size != b.size:
        return unusable(StatusCode.UNEQUAL_LENGTHS, f"A has {a.size}, B has {b.size}")
    return PairRecord(pair_id, np.column_stack([a, b]), source=str(path))


def find_cepc_targets(pairs_csv: str | os.PathLike) -> Path | None:
    p = Path(pairs_csv)
    stem = p.stem[: -len("_pairs")] if p.stem.lower().endswith("_pairs") else p.stem
    for name in (f"{stem}_targets.csv", f"{stem}_target.csv", f"{p.stem}_targets.csv", f"{p.stem}_target.csv"):
        cand = p.with_name(name)
        if cand.is_file():
            return cand
    return None
