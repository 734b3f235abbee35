"""On-disk feature store: chunks of features plus per-shard progress, written atomically.

Layout of a features folder::

    manifest.json                       extraction settings + a fingerprint of them and the dataset
    dataset.json                        the images, their boxes, the categories, skipped files
    progress-shard-K-of-N.json          finished chunks of shard K (rewritten after each chunk)
    shard-K-of-N-chunk-000012.npz       features of one chunk of images

A chunk holds, for its images that decoded: ``image_index`` (rows of dataset.json), ``original``
(n, D) features, and for every (image, category present) pair ``pair_image``,
``pair_category`` (index into the categories), ``context_only`` and ``object_only`` (m, D).
When the backbone gives a spatial map and maps are kept (the default; ``--no-maps`` skips
them), a chunk also holds ``original_map``, float16 (n, C, h, w), aligned with ``image_index``:
the last map of the original image, whose global average is ``original``; and
``pair_box_coverage``, float16 (m, h, w), aligned with ``pair_image``: the fraction of each map
cell covered by that category's boxes after the image's resize and centre crop. The manifest's
``config.map_shape`` is ``[C, h, w]``, or null when no maps are stored (older folders: absent).
A chunk is listed in the progress file only after its file is in place, so a crash loses at
most the chunk in progress, and a rerun skips every listed chunk.
"""
from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from vision._io import load_arrays, save_arrays_atomic, sha256_bytes, write_json_atomic
from vision._io import read_json as _read_any_json
from vision.annotations import Dataset

MANIFEST = "manifest.json"
DATASET = "dataset.json"
_PROGRESS_RE = re.compile(r"^progress-shard-(\d+)-of-(\d+)\.json$")


class StoreError(ValueError):
    """The features folder is unusable or does not match the request; names the folder."""


def read_json(path: Path) -> dict:
    """A JSON object of the features folder; damage is a one-line StoreError naming the file."""
    try:
        data = _read_any_json(path)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: corrupt JSON ({exc.msg} at line {exc.lineno}); delete it to start that part "
                         "again") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: expected a JSON object, got a {type(data).__name__}")
    return data


def parse_shard(spec: str | tuple[int, int] | None) -> tuple[int, int]:
    """``"K/N"`` (1-based K) -> ``(K, N)``."""
    if spec is None:
        return 1, 1
    if isinstance(spec, tuple):
        k, n = spec
    else:
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(spec))
        if not m:
            raise StoreError(f"--shard {spec!r}: expected K/N, e.g. 1/4")
        k, n = int(m.group(1)), int(m.group(2))
    if not (n >= 1 and 1 <= k <= n):
        raise StoreError(f"--shard {k}/{n}: need 1 <= K <= N")
    return k, n


def _env_int(environ, name: str, minimum: int) -> int:
    raw = environ.get(name)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise StoreError(f"environment variable {name}={raw!r}: not an integer (set --shard K/N to override)") from None
    if value < minimum:
        raise StoreError(f"environment variable {name}={raw!r}: must be >= {minimum} (set --shard K/N to override)")
    return value


def shard_from_environment(environ=None) -> tuple[tuple[int, int], str]:
    """The shard that the launcher gives this process, and where it came from.

    - torchrun: ``RANK`` (0-based) of ``WORLD_SIZE`` -> shard ``RANK+1 / WORLD_SIZE``;
    - SLURM job arrays: ``SLURM_ARRAY_TASK_ID`` of ``SLURM_ARRAY_TASK_COUNT`` tasks, counted from
      ``SLURM_ARRAY_TASK_MIN`` (0 if unset) in steps of ``SLURM_ARRAY_TASK_STEP`` (1 if unset), so
      ``--array=1-8`` and ``--array=0-70:10`` both work;
    - both (torchrun inside each array task): ``RANK`` splits each task's shard further, giving
      ``COUNT * WORLD_SIZE`` shards;
    - neither: ``1/1``.
    """
    import os

    env = os.environ if environ is None else environ
    parts, sources = [], []
    if env.get("SLURM_ARRAY_TASK_ID") not in (None, ""):
        if env.get("SLURM_ARRAY_TASK_COUNT") in (None, ""):
            raise StoreError("environment variable SLURM_ARRAY_TASK_COUNT is not set but SLURM_ARRAY_TASK_ID is "
                             "(set --shard K/N to override)")
        task = _env_int(env, "SLURM_ARRAY_TASK_ID", 0)
        count = _env_int(env, "SLURM_ARRAY_TASK_COUNT", 1)
        low = _env_int(env, "SLURM_ARRAY_TASK_MIN", 0) if env.get("SLURM_ARRAY_TASK_MIN") not in (None, "") else 0
        step = _env_int(env, "SLURM_ARRAY_TASK_STEP", 1) if env.get("SLURM_ARRAY_TASK_STEP") not in (None, "") else 1
        offset = task - low
        if offset < 0 or offset % step or offset // step >= count:
            raise StoreError(f"environment variable SLURM_ARRAY_TASK_ID={task}: not task 1..{count} of an array from "
                             f"{low} in steps of {step} (uneven arrays such as 1,5,9 need --shard K/N)")
        parts.append((offset // step, count))
        sources.append(f"SLURM_ARRAY_TASK_ID={task} of SLURM_ARRAY_TASK_COUNT={count}"
                       + (f", SLURM_ARRAY_TASK_MIN={low}" if low else "") + (f", step {step}" if step != 1 else ""))
    if env.get("WORLD_SIZE") not in (None, "") or env.get("RANK") not in (None, ""):
        for name in ("RANK", "WORLD_SIZE"):
            if env.get(name) in (None, ""):
                raise StoreError(f"environment variable {name} is not set but "
                                 f"{'WORLD_SIZE' if name == 'RANK' else 'RANK'} is (set --shard K/N to override)")
        world = _env_int(env, "WORLD_SIZE", 1)
        rank = _env_int(env, "RANK", 0)
        if rank >= world:
            raise StoreError(f"environment variable RANK={rank}: must be below WORLD_SIZE={world}")
        parts.append((rank, world))
        sources.append(f"torchrun RANK={rank} of WORLD_SIZE={world}")
    if not parts:
        return (1, 1), "default (no --shard, no launcher environment)"
    index, total = 0, 1
    for i, n in parts:  # mixed radix: the array task is the major index, the rank the minor one
        index, total = index * n + i, total * n
    return (index + 1, total), "; ".join(sources)


def shard_images(n_images: int, shard: tuple[int, int]) -> list[int]:
    """Image indices of shard K of N: every N-th image, so shards get similar mixes of images."""
    k, n = shard
    return list(range(k - 1, n_images, n))


def plan_chunks(indices: list[int], chunk_size: int) -> list[list[int]]:
    if chunk_size < 1:
        raise StoreError(f"chunk size must be positive, got {chunk_size}")
    return [indices[i:i + chunk_size] for i in range(0, len(indices), chunk_size)]


def fingerprint(config: dict, dataset_json: dict) -> str:
    blob = json.dumps({"config": config, "dataset": dataset_json}, sort_keys=True).encode()
    return sha256_bytes(blob)


class FeatureStore:
    """Reads and writes one features folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------------ names
    def progress_path(self, shard: tuple[int, int]) -> Path:
        return self.root / f"progress-shard-{shard[0]}-of-{shard[1]}.json"

    def chunk_path(self, shard: tuple[int, int], chunk_id: int) -> Path:
        return self.root / f"shard-{shard[0]}-of-{shard[1]}-chunk-{chunk_id:06d}.npz"

    # ------------------------------------------------------------------ writing
    def prepare(self, config: dict, dataset: Dataset, extra: dict | None = None) -> dict:
        """Create the folder, or check that an existing one was made with the same settings.

        ``config`` must hold exactly what determines the features; ``extra`` (full identities,
        version, seed) is recorded when the folder is created.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        dataset_json = dataset.to_json()
        fp = fingerprint(config, dataset_json)
        manifest_path = self.root / MANIFEST
        if manifest_path.exists():
            old = read_json(manifest_path)
            if old.get("fingerprint") != fp:
                as_json = json.loads(json.dumps(config))  # tuples read back as lists: compare like that
                diff = [k for k in sorted(set(config) | set(old.get("config", {})))
                        if as_json.get(k) != old.get("config", {}).get(k) and k != "map_shape"]
                what = f"settings differ: {', '.join(diff)}" if diff else "the dataset differs"
                raise StoreError(f"{self.root}: holds features made differently ({what}); use another features folder")
            return old
        write_json_atomic(self.root / DATASET, dataset_json)
        manifest = {"format": "ncc-vision-features/1", "config": config, "fingerprint": fp,
                    "n_images": len(dataset.images), "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **(extra or {})}
        write_json_atomic(manifest_path, manifest)
        return manifest

    def record_map_shape(self, shape: "tuple[int, ...] | None") -> None:
        """Write ``config.map_shape`` (the backbone's ``[C, h, w]``, or null: no map) once the
        first batch has shown it; it follows from the fingerprinted settings, so it is not part
        of the fingerprint. Shards that write it at the same time write the same value."""
        manifest = self.manifest()
        value = list(shape) if shape else None
        if "map_shape" in manifest["config"]:
            if manifest["config"]["map_shape"] != value:
                raise StoreError(f"{self.root / MANIFEST}: records maps of shape {manifest['config']['map_shape']}, "
                                 f"but the backbone gives {value}")
            return
        manifest["config"]["map_shape"] = value
        write_json_atomic(self.root / MANIFEST, manifest)

    def load_progress(self, shard: tuple[int, int], chunk_size: int, n_chunks: int) -> dict:
        others = [p.name for p in self.root.glob("progress-shard-*.json")
                  if (m := _PROGRESS_RE.match(p.name)) and int(m.group(2)) != shard[1]]
        if others:
            raise StoreError(f"{self.root}: already holds shards of another split ({others[0]}); "
                             "use the same N or another folder")
        path = self.progress_path(shard)
        if not path.exists():
            return {"shard": f"{shard[0]}/{shard[1]}", "chunk_size": chunk_size, "n_chunks": n_chunks, "done": {}}
        progress = read_json(path)
        if progress.get("chunk_size") != chunk_size or progress.get("n_chunks") != n_chunks:
            raise StoreError(f"{path}: was written with chunk size {progress.get('chunk_size')}; "
                             "resume with the same --chunk-size")
        return progress

    def commit_chunk(self, progress: dict, shard: tuple[int, int], chunk_id: int,
                     arrays: dict[str, np.ndarray], failed: list[dict], extra: dict | None = None) -> None:
        """Write a chunk file, then record it as done (in that order, both atomic)."""
        path = self.chunk_path(shard, chunk_id)
        save_arrays_atomic(path, **arrays)
        progress["done"][str(chunk_id)] = {
            "file": path.name, "n_ok": int(len(arrays["image_index"])),
            "n_pairs": int(len(arrays["pair_image"])), "failed": failed,
        }
        progress["complete"] = len(progress["done"]) == progress["n_chunks"]
        if extra:
            progress.update(extra)
        write_json_atomic(self.progress_path(shard), progress)

    # ------------------------------------------------------------------ reading
    def manifest(self) -> dict:
        path = self.root / MANIFEST
        if not path.is_file():
            raise StoreError(f"{self.root}: no {MANIFEST}; run `ncc vision extract` first")
        return read_json(path)

    def dataset(self) -> Dataset:
        return Dataset.from_json(read_json(self.root / DATASET))

    def shard_progress(self) -> list[dict]:
        """All progress files, checked to form one complete split of the work."""
        found = {}
        for p in self.root.glob("progress-shard-*.json"):
            m = _PROGRESS_RE.match(p.name)
            if m:
                found[(int(m.group(1)), int(m.group(2)))] = read_json(p)
        if not found:
            raise StoreError(f"{self.root}: no extracted features (no progress-shard-*.json)")
        ns = {n for _, n in found}
        if len(ns) != 1:
            raise StoreError(f"{self.root}: mixes shard splits ({', '.join(f'N={n}' for n in sorted(ns))})")
        n = ns.pop()
        missing = [k for k in range(1, n + 1) if (k, n) not in found]
        if missing:
            raise StoreError(f"{self.root}: shard(s) {', '.join(f'{k}/{n}' for k in missing)} not extracted yet")
        for (k, _), prog in sorted(found.items()):
            if len(prog["done"]) != prog["n_chunks"]:
                raise StoreError(f"{self.root}: shard {k}/{n} is incomplete ({len(prog['done'])}/{prog['n_chunks']} "
                                 f"chunks); rerun extract with --shard {k}/{n} to finish it")
        return [found[key] for key in sorted(found)]

    def iter_chunks(self, keys: "tuple[str, ...] | None" = None) -> Iterator[dict[str, np.ndarray]]:
        """Every chunk's arrays, in shard and chunk order; ``keys``: read only those arrays (the
        ones a chunk has: maps are absent from older folders), e.g. to skip the maps."""
        for prog in self.shard_progress():
            for cid in sorted(prog["done"], key=int):
                path = self.root / prog["done"][cid]["file"]
                try:
                    arrays = load_arrays(path, keys)
                except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated: BadZipFile
                    raise StoreError(f"{path}: unreadable feature chunk ({exc}); delete it and its "
                                     "progress entry, or extract again") from None
                yield arrays

    def failed_images(self) -> list[dict]:
        return [f for prog in self.shard_progress() for entry in prog["done"].values() for f in entry["failed"]]
