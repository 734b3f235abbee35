"""Tübingen / Mooij folders: ``pairNNNN.txt`` (whitespace-separated columns, no header) and an optional
``pairmeta.txt`` (``pair cause_first cause_last effect_first effect_last weight``, 1-based columns).
The writer is the generator's (:func:`synthetic.pair_files.write_tuebingen`)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ncc.formats.records import FormatError, PairRecord
from ncc.formats.sniff import _load_table, _numbered_files, _read_text, _record_from_table, _to_float
from ncc.formats.status import OK, PairStatus, StatusCode
from synthetic.pair_files import write_tuebingen

__all__ = ["read_tuebingen", "write_tuebingen", "MAX_WEIGHT"]

#: pairmeta.txt weights are relative (Tübingen's are <= 1); larger ones overflow weighted sums.
MAX_WEIGHT = 1e6
_TUEB_RE = re.compile(r"^pair(\d+)\.txt$", re.IGNORECASE)


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
            meta[key] = PairStatus(StatusCode.BAD_PAIRMETA, f"pairmeta.txt line {i}: {line.strip()[:40]!r}")
            continue
        if not 0.0 <= weight <= MAX_WEIGHT:  # NaN fails this too
            meta[key] = PairStatus(StatusCode.BAD_PAIRMETA,
                                   f"{path} line {i}: weight {fields[5]!r} is not in [0, {MAX_WEIGHT:g}]")
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
        status = PairStatus(StatusCode.MULTIVARIATE, f"cause columns {c1}-{c2}, effect columns {e1}-{e2}")
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    if table is None:
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    if min(c1, e1) < 1 or max(c1, e1) > table.shape[1] or c1 == e1:
        status = PairStatus(StatusCode.BAD_PAIRMETA,
                            f"cause column {c1}, effect column {e1}, file has {table.shape[1]} columns")
        return PairRecord(pair_id, None, truth, weight, status, str(path))
    # Data stay in file order (first = lower column); only the truth says which causes which.
    lo, hi = sorted((c1, e1))
    return PairRecord(pair_id, table[:, [lo - 1, hi - 1]], truth, weight, OK, str(path))


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
