"""Saving generated pairs: ``.npz`` (lossless, with provenance) and exports that other
tools read: CDT's CEPC CSV and the Tübingen folder layout.

Every file set records the generator config, the seed and the package version: inside
the ``.npz``; in ``<prefix>_meta.json`` next to CEPC files; in ``ncc_synthetic.json``
inside a Tübingen folder.  Files are written to a temporary name and renamed, so an
interrupted run never leaves a half-written file under the final name.

Label encoding on disk (see :mod:`synthetic.generator`): ``.npz`` keeps y as is
(1: x->y, 0: y->x, -1: no link).  CEPC targets are +1 (A->B), -1 (B->A), 0 (no link).
Tübingen ``pairmeta.txt`` lines are ``NNNN c1 c2 e1 e2 weight`` with ``1 1 2 2`` for x->y
and ``2 2 1 1`` for y->x; that layout has no way to say "no link", so such pairs are
refused there.
"""
from __future__ import annotations

import json
import numbers
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthetic._atomic import atomic_write
from synthetic._version import __version__
from synthetic.config import PairConfig
from synthetic.pair_files import write_cepc, write_tuebingen
from synthetic.pairs import as_pair_list

FORMAT_TAG = "ncc-synthetic-pairs"
FORMAT_VERSION = 1
EXPORT_FORMATS = ("npz", "cepc", "tuebingen")
_TUEB_FILE = re.compile(r"^pair\d+\.txt$")


def _float32_text(value: float) -> str:
    return "%.9g" % value  # 9 significant digits read back to the identical float32


@dataclass
class SavedPairs:
    """What :func:`load` returns."""

    X: np.ndarray | list  # (n_pairs, n_points, 2) float32, or a list of (n_i, 2) arrays
    y: np.ndarray  # int64 labels: 1 x->y, 0 y->x, -1 no link
    config: dict  # the generator config (PairConfig.to_dict())
    random_state: int | None  # the seed the pairs were generated with
    version: str  # ncc version that wrote the file
    info: dict | None  # per-pair metadata from make_pairs(return_info=True), if saved


def _metadata(config, random_state, n_pairs: int) -> dict:
    if isinstance(config, PairConfig):
        config = config.to_dict()
    if random_state is not None and (isinstance(random_state, bool)
                                     or not isinstance(random_state, numbers.Integral)):
        raise ValueError("random_state must be an int seed (or None) to be recorded, "
                         f"got {type(random_state).__name__}")
    return {"format": FORMAT_TAG, "format_version": FORMAT_VERSION, "version": __version__,
            "random_state": None if random_state is None else int(random_state),
            "n_pairs": n_pairs, "config": config}


def _check_pairs(X, y) -> tuple[list | np.ndarray, np.ndarray]:
    X = as_pair_list(X, "X", min_points=0, finite=False, dtype=None)  # finiteness is checked on load
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(f"y must have one label per pair ({len(X)}), got shape {y.shape}")
    if not np.isin(y, (-1, 0, 1)).all():
        raise ValueError("labels must be 1 (x->y), 0 (y->x) or -1 (no link)")
    return X, y


def ensure_writable_dir(directory: Path, shown: Path) -> None:
    """Create ``directory`` if needed and check a file can be created there."""
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write to {shown}: {parent} is not a folder")
            break
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".ncc-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"cannot write to {shown}: {exc.strerror or exc}") from None


def check_output(out: Path, fmt: str, overwrite: bool = False) -> None:
    """Raise ValueError (one line) unless the output of format ``fmt`` can go to ``out``.

    Called before generating (so a bad path fails fast) and again by each writer.
    """
    out = Path(out)
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}")
    if fmt == "tuebingen":
        if out.exists() and not out.is_dir():
            raise ValueError(f"cannot write to {out}: it exists and is not a folder")
        if out.is_dir() and any(out.glob("pair*.txt")) and not overwrite:
            raise ValueError(f"{out} already holds pair files; choose an empty or new folder, "
                             "or replace them with --overwrite (overwrite=True)")
        ensure_writable_dir(out, out)
        return
    target = cepc_paths(out)[0] if fmt == "cepc" else out
    if target.is_dir():
        raise ValueError(f"cannot write to {target}: it is a folder")
    ensure_writable_dir(target.parent, target)


def _atomic(path: Path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file, then rename it to ``path`` (umask honoured)."""
    atomic_write(path, write, binary=True)


def _write_text(path: Path, text: str) -> None:
    _atomic(path, lambda fh: fh.write(text.encode("utf-8")))


# --------------------------------------------------------------------------- npz
def save(path, X, y, *, config, random_state, info: dict | None = None) -> Path:
    """Write pairs to ``path`` (an ``.npz`` file, name kept as given).

    Equal-size pairs are stored as one (n_pairs, n_points, 2) array; ragged pairs as
    their concatenated values plus offsets (pair i is ``values[offsets[i]:offsets[i+1]]``).
    ``config`` is a PairConfig or a JSON-ready dict; ``random_state`` the int seed.
    """
    X, y = _check_pairs(X, y)
    path = Path(path)
    check_output(path, "npz")
    arrays = {"y": y.astype(np.int64),
              "meta_json": np.array(json.dumps(_metadata(config, random_state, len(y))))}
    if isinstance(X, np.ndarray):
        arrays["X"] = X.astype(np.float32, copy=False)
    else:
        sizes = np.array([len(p) for p in X], dtype=np.int64)
        arrays["offsets"] = np.concatenate([[0], np.cumsum(sizes)])
        arrays["values"] = (np.concatenate(X).astype(np.float32, copy=False) if len(X)
                            else np.empty((0, 2), np.float32))
    for key, values in (info or {}).items():
        arrays[f"info_{key}"] = np.asarray(values)
    _atomic(path, lambda fh: np.savez(fh, **arrays))
    return path


def load(path) -> SavedPairs:
    """Read a file written by :func:`save` (raises ValueError if it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable .npz file ({exc})") from None
    if "meta_json" not in arrays or "y" not in arrays:
        raise ValueError(f"{path} is not an ncc synthetic-pairs file (no meta_json / y)")
    try:
        meta = json.loads(str(arrays["meta_json"]))
    except ValueError as exc:
        raise ValueError(f"{path}: meta_json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_TAG:
        raise ValueError(f"{path} is not an ncc synthetic-pairs file (meta_json is not its metadata object)")
    missing = [k for k in ("config", "random_state", "version") if k not in meta]
    if missing:
        raise ValueError(f"{path}: meta_json lacks {', '.join(missing)}")
    if "X" in arrays:
        X = arrays["X"]
    else:
        offsets, values = arrays.get("offsets"), arrays.get("values")
        if offsets is None or values is None or offsets.ndim != 1 or len(offsets) != len(arrays["y"]) + 1 \
                or np.any(np.diff(offsets) < 0) or offsets[0] != 0 or offsets[-1] != len(values):
            raise ValueError(f"{path}: offsets/values do not describe {len(arrays['y'])} pairs")
        X = [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    _check_finite(X, path)
    info = {k[len("info_"):]: v for k, v in arrays.items() if k.startswith("info_")}
    return SavedPairs(X, arrays["y"], meta["config"], meta["random_state"], meta["version"],
                      info or None)


def _check_finite(X, path: Path) -> None:
    """A NaN in a training file would surface much later as "training diverged": name it now."""
    try:
        finite = np.isfinite(X).all() if isinstance(X, np.ndarray) else all(np.isfinite(p).all() for p in X)
    except TypeError:
        raise ValueError(f"{path}: the pairs are not numbers") from None
    if not finite:
        bad = next(i for i, p in enumerate(X) if not np.isfinite(p).all())
        raise ValueError(f"{path}: pair {bad} holds NaN or infinite values")


# --------------------------------------------------------------------------- CEPC (CDT)
def cepc_paths(out) -> tuple[Path, Path, Path]:
    """(pairs, targets, meta) paths for a CEPC export: ``out`` is a prefix
    (``data/train`` -> ``data/train_pairs.csv``...) or the pairs file itself
    (``data/train_pairs.csv`` or any ``.csv``)."""
    out = Path(out)
    if out.suffix.lower() == ".csv":
        stem = out.stem[: -len("_pairs")] if out.stem.endswith("_pairs") else out.stem
        pairs = out
    else:
        stem, pairs = out.name, out.with_name(f"{out.name}_pairs.csv")
    return pairs, out.with_name(f"{stem}_targets.csv"), out.with_name(f"{stem}_meta.json")


def export_cepc(out, X, y, *, config, random_state, pair_ids=None) -> tuple[Path, Path]:
    """Write CDT's CEPC CSV: ``SampleID,A,B`` (A and B are the space-separated values of
    columns 0 and 1) and ``SampleID,Target`` (+1: A->B, -1: B->A, 0: no link).
    Sample ids are ``pair1``, ``pair2``... unless given.  Returns (pairs, targets) paths."""
    X, y = _check_pairs(X, y)
    check_output(out, "cepc")
    pairs_path, targets_path, meta_path = cepc_paths(out)
    if pair_ids is None:
        pair_ids = [f"pair{i}" for i in range(1, len(X) + 1)]
    targets = np.where(y == 1, 1, np.where(y == 0, -1, 0)).tolist()
    meta = _metadata(config, random_state, len(y))
    write_cepc(pairs_path, pair_ids, X, targets_path, targets, value_format=_float32_text)
    _write_text(meta_path, json.dumps(meta, indent=1) + "\n")
    return pairs_path, targets_path


# --------------------------------------------------------------------------- Tübingen
def export_tuebingen(folder, X, y, *, config, random_state, weights=None, overwrite: bool = False) -> Path:
    """Write ``pair0001.txt``... (two space-separated columns) and ``pairmeta.txt``
    (``0001 1 1 2 2 1`` for x->y, ``0001 2 2 1 1 1`` for y->x; weight 1 unless given)
    into ``folder`` (created; it must not already hold pair files unless ``overwrite``, which
    first removes the folder's ``pairNNNN.txt``, ``pairmeta.txt`` and ``ncc_synthetic.json``,
    so no pair of an earlier, larger set is left behind; other files stay)."""
    X, y = _check_pairs(X, y)
    if (y == -1).any():
        raise ValueError("the tuebingen format cannot store pairs without a causal link "
                         "(label -1); use --format npz or cepc")
    folder = Path(folder)
    check_output(folder, "tuebingen", overwrite)
    if overwrite and folder.is_dir():
        for old in folder.iterdir():
            if old.is_file() and (_TUEB_FILE.match(old.name) or old.name in ("pairmeta.txt", "ncc_synthetic.json")):
                old.unlink()
    write_tuebingen(folder, X, y.tolist(), weights, number_width=max(4, len(str(len(X)))),
                    value_format=_float32_text, weight_format=lambda w: f"{w:g}")
    _write_text(folder / "ncc_synthetic.json",
                json.dumps(_metadata(config, random_state, len(y)), indent=1) + "\n")
    return folder
