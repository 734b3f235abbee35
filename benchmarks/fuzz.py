"""Replay a corpus of generated hostile inputs against every command (issue 11).

Usage: python benchmarks/fuzz.py [--out DIR] [--only NAME,NAME] [--time-limit 120]

Each case runs ``ncc ...`` in a fresh process and must end with exit code 0 or 2, no traceback,
no file outside its own output folder created, changed or deleted, a peak memory under 2 GB
(the child's ru_maxrss) and within the time limit. Prints one line per case; exits 1 if any fails.
The corpus covers pair files (Tübingen, CEPC, two-column), model files, and COCO / VOC datasets.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MAX_RSS_BYTES = 2 * 2**30
# Runs the CLI and, however it ends, writes the process's peak RSS (kB) to the file in argv[1].
_WRAPPER = """import resource, sys
out = sys.argv.pop(1)
try:
    from ncc.cli import main
    main()
finally:
    open(out, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


@dataclass
class Case:
    name: str
    args: list[str]  # after "ncc"; "{out}" is replaced by the case's output folder
    expect: tuple[int, ...] = (0, 2)
    stderr_has: str = ""  # a fragment the one-line message must contain (when exit code is 2)
    files: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ corpus
def _model_bytes(**config_changes) -> bytes:
    import torch

    from ncc.model import NCC, NCCConfig
    from ncc.serialization import model_to_bytes

    torch.manual_seed(0)
    data = model_to_bytes(NCC(NCCConfig(embed_dim=4, classifier_dim=4)).eval())
    if not config_changes:
        return data
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    config = {**json.loads(header["__metadata__"]["config"]), **config_changes}
    header["__metadata__"]["config"] = json.dumps(config)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + data[8 + n:]


def _png(path: Path, size: tuple[int, int]) -> None:
    from PIL import Image

    Image.new("RGB", size, (120, 30, 200)).save(path)


def _coco(root: Path, names: list[str], ids=None, cats=None) -> None:
    import numpy as np
    from PIL import Image

    img = root / "images"
    img.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(img / f"ok{i}.jpg")
    names = [f"ok{i}.jpg" for i in range(3)] + names
    ids = ids or list(range(1, len(names) + 1))
    images = [{"id": i, "file_name": n, "width": 40, "height": 30} for i, n in zip(ids, names)]
    anns = [{"id": k + 1, "image_id": i, "category_id": 1, "bbox": [2, 2, 20, 20]}
            for k, i in enumerate(ids) if not isinstance(i, list)]
    cats = cats or [{"id": 1, "name": "dog"}]
    (root / "instances_x.json").write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))


def build_corpus(root: Path) -> list[Case]:
    """Write the hostile inputs under ``root``; return the cases that use them."""
    import numpy as np

    from ncc.formats import write_tuebingen

    rng = np.random.default_rng(0)
    good = [np.c_[x, np.tanh(x) + 0.1 * rng.normal(size=60)] for x in rng.normal(size=(4, 60))]
    root.mkdir(parents=True, exist_ok=True)
    model = root / "model.safetensors"
    model.write_bytes(_model_bytes())
    m = ["-m", str(model)]
    cases: list[Case] = []

    def pairs_case(name: str, filename: str, content: bytes, stderr_has: str = "", command: str = "score"):
        path = root / name / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        cases.append(Case(name, [command, str(path), *m, *(["-o", "{out}/s.csv"] if command == "score" else [])],
                          stderr_has=stderr_has))

    # -- pair files
    tub = root / "tub_weights"
    write_tuebingen(tub, good, truths=[1, 0, 1, 0], weights=[1, -1, float("nan"), 1e308])
    cases.append(Case("tuebingen_bad_weights", ["evaluate", str(tub), *m, "--baselines", "none"]))
    tub0 = root / "tub_zero"
    write_tuebingen(tub0, good, truths=[1, 0, 1, 0], weights=[0, 0, 0, 0])
    cases.append(Case("tuebingen_zero_weights", ["evaluate", str(tub0), *m, "--baselines", "none"],
                      stderr_has="every weight is 0"))
    pairs_case("cepc_nul_padding", "c_pairs.csv", b"SampleID,A,B\np1" + b"\x00" * 200_000 + b",1 2,3 4\n", "NUL")
    pairs_case("cepc_cut_row", "c_pairs.csv", b"SampleID,A,B\np1,1 2 3,4 5 6\np2,1 2 3,4 5 6.")
    pairs_case("cepc_open_quote", "c_pairs.csv", b'SampleID,A,B\np1,"1 2 3","4 5\n', "line")
    pairs_case("cepc_duplicate_ids", "c_pairs.csv", b"SampleID,A,B\np1,1 2 3,4 5 6\np1,1 2 3,4 5 6\n")
    pairs_case("two_column_underscores", "p.txt", b"1_000 2\n3 4\n" * 10)
    pairs_case("two_column_arabic_digits", "p.txt", "\u0661 2\n3 4\n".encode() * 10)
    pairs_case("two_column_binary", "p.txt", os.urandom(4096))
    pairs_case("two_column_bom_crlf_latin1", "p.csv", b"\xef\xbb\xbfx;y\r\n" + b"1,5;2\xe9\r\n" * 20)
    pairs_case("two_column_nan_inf", "p.txt", b"nan inf\n1 2\n-inf 3\n" * 10)
    # -- model files
    def model_case(name: str, content: bytes, stderr_has: str = "") -> None:
        path = root / name / "m.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        pairs = root / name / "p.txt"
        pairs.write_text("".join(f"{a} {b}\n" for a, b in good[0]))
        cases.append(Case(name, ["score", str(pairs), "-m", str(path)], stderr_has=stderr_has))

    marker = root / "pickle_ran"
    model_case("model_pickle", pickle.dumps({"x": _Marker(str(marker))}, protocol=4), "pickle")
    model_case("model_torch_zip", b"PK\x03\x04" + os.urandom(200), "pickle")
    model_case("model_random_bytes", os.urandom(1000))
    model_case("model_truncated", _model_bytes()[:-40])
    model_case("model_batchnorm_string", _model_bytes(batchnorm="no"), "batchnorm")
    model_case("model_huge_subsamples", _model_bytes(n_subsamples=10**9), "n_subsamples")
    model_case("model_huge_embed", _model_bytes(embed_dim=40000), "shape")
    model_case("model_header_length_lies", (10**15).to_bytes(8, "little") + b"{}" + b" " * 100)
    # -- COCO / VOC
    def vision_case(name: str, setup, stderr_has: str = "", extra: tuple = ()) -> None:
        ds = root / name
        setup(ds)
        cases.append(Case(name, ["vision", "extract", "--images", str(ds / "images"), "--annotations",
                                 str(ds / "instances_x.json"), "--features", "{out}/f", "--random-init",
                                 "--resize", "32", "--workers", "0", "--quiet", "--categories", "all",
                                 "--device", "cpu", *extra], stderr_has=stderr_has))

    secret = root / "secret.png"
    _png(secret, (40, 30))

    def escapes(ds: Path) -> None:
        _coco(ds, ["../../secret.png", str(secret), "/etc/passwd", "link.jpg", "fifo.jpg"])
        (ds / "images" / "link.jpg").symlink_to(secret)
        os.mkfifo(ds / "images" / "fifo.jpg")

    def bomb(ds: Path) -> None:
        _coco(ds, ["bomb.png"])
        _png(ds / "images" / "bomb.png", (20000, 2))

    vision_case("coco_paths_escape", escapes)
    vision_case("coco_decompression_bomb", bomb, extra=("--max-pixels", "5000000"))  # 10 M after the resize
    vision_case("coco_duplicate_image_ids", lambda ds: _coco(ds, [], ids=[1, 1, 2]), "listed twice")
    vision_case("coco_duplicate_category_ids", lambda ds: _coco(
        ds, [], cats=[{"id": 1, "name": "dog"}, {"id": 1, "name": "horse"}]), "listed twice")
    vision_case("coco_list_id", lambda ds: _coco(ds, [], ids=[1, 2, [3]]), "not an integer")
    xml = root / "voc_bomb"
    (xml / "images").mkdir(parents=True)
    (xml / "a.xml").write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbb"><!ENTITY c "&b;&b;&b;">]>'
                               "<annotation><filename>&c;</filename></annotation>")
    cases.append(Case("voc_entity_bomb", ["vision", "extract", "--images", str(xml / "images"), "--annotations",
                                          str(xml), "--features", "{out}/f", "--random-init", "--quiet"],
                      stderr_has="unsafe XML"))
    # -- generate / train
    cases.append(Case("generate_billion_points", ["generate", "--out", "{out}/p.npz", "--n-pairs", "10",
                                                  "--n-points", "1000000000"], stderr_has="memory"))
    cases.append(Case("train_output_is_checkpoint", ["train", "-o", "{out}/m.ckpt", "--steps", "1"],
                      stderr_has="same file"))
    return cases


class _Marker:
    """Unpickling this would create a file: proof that a loader ran code."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# ------------------------------------------------------------------------------ running
def _snapshot(root: Path, skip: Path) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            continue
        for f in files:
            p = Path(dirpath) / f
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def run_case(case: Case, root: Path, time_limit: float) -> list[str]:
    """Problems found (empty when the case passed)."""
    out = root / "_out" / case.name
    out.mkdir(parents=True, exist_ok=True)
    args = [a.replace("{out}", str(out)) for a in case.args]
    before = _snapshot(root, root / "_out")
    start = time.perf_counter()
    rss_file = root / "_out" / f"{case.name}.rss"
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(rss_file), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        stdout, stderr = proc.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return [f"over the time limit of {time_limit:.0f} s"]
    seconds = time.perf_counter() - start
    problems = []
    peak = int(rss_file.read_text() or 0) * 1024 if rss_file.exists() else None
    if peak is None or peak > MAX_RSS_BYTES:
        problems.append("no peak memory recorded" if peak is None else f"peak memory {peak / 2**30:.1f} GiB")
    if proc.returncode not in case.expect:
        problems.append(f"exit code {proc.returncode}")
    if "Traceback" in stderr or "Traceback" in stdout:
        problems.append("traceback: " + stderr.strip().splitlines()[-1][:200])
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    if proc.returncode == 2 and len(errors) != 1:
        problems.append(f"{len(errors)} error lines")
    if case.stderr_has and not any(case.stderr_has in e for e in errors):
        problems.append(f"no error line mentions {case.stderr_has!r}: {stderr.strip()[-200:]!r}")
    after = _snapshot(root, root / "_out")
    touched = sorted(set(before) ^ set(after) | {p for p in before if p in after and before[p] != after[p]})
    if touched:
        problems.append(f"touched outside its output: {touched[:3]}")
    if (root / "pickle_ran").exists():
        problems.append("a pickle payload ran")
    case.seconds = seconds  # type: ignore[attr-defined]
    return problems


def run_corpus(root: Path, only: set[str] | None = None, time_limit: float = 120.0) -> dict[str, list[str]]:
    """Build the corpus under ``root`` and run it; case name -> problems."""
    results = {}
    for case in build_corpus(root):
        if only and case.name not in only:
            continue
        problems = run_case(case, root, time_limit)
        results[case.name] = problems
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"{case.name:32s} {getattr(case, 'seconds', 0):6.1f} s  {status}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Corpus folder (default: a temporary one).")
    parser.add_argument("--only", default="", help="Comma-separated case names.")
    parser.add_argument("--time-limit", type=float, default=120.0, help="Seconds per case.")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n} or None
    with tempfile.TemporaryDirectory(prefix="ncc-fuzz-") as tmp:
        results = run_corpus(args.out or Path(tmp), only, args.time_limit)
    failed = [k for k, v in results.items() if v]
    print(f"{len(results) - len(failed)} of {len(results)} cases passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
