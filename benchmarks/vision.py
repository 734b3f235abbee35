"""Benchmark of `vision` feature extraction: speed against a bare forward pass, and memory.

1. Throughput (CPU): ``extract_features`` on N images (decode once, build the three versions,
   resize, normalise, forward, write chunks) against a bare torchvision forward pass of the same
   backbone on the same number of random 224x224 tensors (3 per image), same batch size.
   Target: extraction >= 0.8 of bare throughput.
2. Memory: peak RSS of a fresh process extracting two dataset sizes; features stream to disk,
   so it must stay flat (and <= 2 GB).

Datasets are synthetic JPEGs (COCO-like 640x480, one object box each, hence exactly three
versions per image) unless ``--images/--annotations`` point at a real dataset (used for part 1).
Weights are random (``random_init``): timing does not depend on weight values.

    python benchmarks/vision.py --n-images 96 --memory-sizes 200,800 --out /tmp/bench-vision.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_synthetic(root: Path, n_images: int, width: int = 640, height: int = 480, seed: int = 0) -> tuple[Path, Path]:
    """COCO-style dataset of smooth random JPEGs (photo-like file sizes), one 'dog' box each."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    img_dir = root / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    base = [rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8) for _ in range(8)]
    for i in range(n_images):
        # low-frequency content plus fine noise: decodes like a photo, not like flat colour
        small = Image.fromarray(base[i % len(base)]).resize((width, height), Image.BILINEAR)
        arr = np.asarray(small).astype(np.int16) + rng.integers(-20, 21, (height, width, 3))
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(img_dir / f"{i:06d}.jpg", quality=90)
        w, h = rng.uniform(0.2, 0.6) * width, rng.uniform(0.2, 0.6) * height
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        images.append({"id": i, "file_name": f"{i:06d}.jpg", "width": width, "height": height})
        anns.append({"id": i, "image_id": i, "category_id": 18, "bbox": [x, y, w, h]})
    ann = root / "instances_bench.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 18, "name": "dog"}]}))
    return img_dir, ann


def bare_forward(backbone, n_tensors: int, batch: int, size: int, seed: int = 0, channels_last: bool = False) -> float:
    """Seconds for the backbone alone on ``n_tensors`` random tensors in batches of ``batch``
    (torch's default NCHW layout, or channels-last as the extraction feeds it)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    batches = [torch.randn(min(batch, n_tensors - s), 3, size, size, generator=gen).contiguous(memory_format=fmt)
               for s in range(0, n_tensors, batch)]
    model = backbone.model.eval()
    with torch.inference_mode():
        model(batches[0][:2])  # warm-up (allocator, kernels)
        t0 = time.perf_counter()
        for x in batches:
            model(x)
        return time.perf_counter() - t0


def throughput(args) -> dict:
    import torch

    from vision.backbones import build_backbone
    from vision.extract import ExtractionConfig, extract_features

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.images:
            images, annotations = args.images, args.annotations
            source = f"{args.images} (first {args.n_images} images)"
        else:
            images, annotations = make_synthetic(tmp / "data", args.n_images)
            source = f"synthetic 640x480 JPEGs, one box each ({args.n_images} images)"
        backbone = build_backbone(args.arch, None, random_init=True, seed=0)
        cfg = ExtractionConfig(arch=args.arch, random_init=True, resize=224, batch_size=args.batch_size,
                               forward_batch=args.batch_size * 3, num_workers=args.workers, device="cpu",
                               chunk_size=128)
        # warm the model once outside the timings
        bare_forward(backbone, 2, 2, 224)
        runs = []
        for rep in range(args.repeats):
            out = tmp / f"features-{rep}"
            summary = extract_features(images, annotations, out, cfg, backbone=backbone, categories="all",
                                       limit=args.n_images, progress=False)
            n = summary["n_tensors"]  # 3 per synthetic image; real data: whatever its categories give
            bare = bare_forward(backbone, n, args.batch_size * 3, 224)
            bare_cl = bare_forward(backbone, n, args.batch_size * 3, 224, channels_last=True)
            ext = n / summary["seconds"]
            runs.append({
                "n_images": summary["n_images_processed"], "n_tensors": n, "extract_seconds": summary["seconds"],
                "extract_tensors_per_s": ext,
                "extract_images_per_s": summary["n_images_processed"] / summary["seconds"],
                "bare_tensors_per_s": n / bare, "bare_channels_last_tensors_per_s": n / bare_cl,
                "ratio": ext / (n / bare), "ratio_channels_last": ext / (n / bare_cl),
            })
        return {"source": source, "arch": args.arch, "torch_threads": torch.get_num_threads(),
                "workers": args.workers, "batch_images": args.batch_size, "runs": runs,
                "median_ratio": float(np.median([r["ratio"] for r in runs])),
                "median_ratio_channels_last": float(np.median([r["ratio_channels_last"] for r in runs]))}


def _proc_mb(pid: int | str, filename: str, key: str) -> float:
    """A ``key:`` line (in kB) of /proc/PID/FILENAME, in MB; 0 when unreadable (not Linux)."""
    try:
        with open(f"/proc/{pid}/{filename}") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _rss_mb(pid: int | str = "self") -> float:
    """Current resident set size of a process."""
    return _proc_mb(pid, "status", "VmRSS:")


def _pss_mb(pid: int | str = "self") -> float:
    """Proportional set size: shared pages (torch's libraries, copy-on-write memory of forked
    workers) counted once across processes instead of once per process as RSS does."""
    return _proc_mb(pid, "smaps_rollup", "Pss:")


def _children() -> list[int]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def memory_child(data_dir: str, resize: int, workers: int, arch: str) -> None:
    """Runs in a fresh process: extract a prepared dataset while sampling RSS; print JSON."""
    import threading

    from vision.backbones import build_backbone
    from vision.extract import ExtractionConfig, extract_features

    backbone = build_backbone(arch, None, random_init=True, seed=0)
    baseline = _rss_mb()
    peak = {"main": baseline, "total": _pss_mb()}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            main = _rss_mb()
            peak["main"] = max(peak["main"], main)
            peak["total"] = max(peak["total"], _pss_mb() + sum(_pss_mb(p) for p in _children()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ExtractionConfig(arch=arch, random_init=True, resize=resize, num_workers=workers, device="cpu",
                               batch_size=16, chunk_size=128)
        summary = extract_features(Path(data_dir) / "images", Path(data_dir) / "instances_bench.json",
                                   Path(tmp) / "features", cfg, backbone=backbone, categories="all", progress=False)
        done.set()
        sampler.join()
        disk = sum(p.stat().st_size for p in (Path(tmp) / "features").glob("*.npz"))
    print(json.dumps({
        "n_images": summary["n_images_processed"], "resize": resize, "seconds": summary["seconds"],
        "rss_before_extraction_mb": baseline, "peak_rss_main_mb": peak["main"],
        "peak_pss_main_plus_workers_mb": peak["total"], "features_on_disk_mb": disk / 2**20,
    }))


def memory(args) -> list[dict]:
    out = []
    for n in args.memory_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            make_synthetic(Path(tmp), n, seed=1)
            cmd = [sys.executable, __file__, "--_memory-child", tmp, "--memory-resize", str(args.memory_resize),
                   "--workers", str(args.workers), "--arch", args.arch]
            res = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONWARNINGS": "ignore"})
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--n-images", type=int, default=96, help="images for the throughput part")
    p.add_argument("--batch-size", type=int, default=16, help="images per batch (bare pass: 3x this many tensors)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2, help="alternate bare/extraction runs this many times")
    p.add_argument("--images", help="real images folder for the throughput part (default: synthetic)")
    p.add_argument("--annotations", nargs="*", help="real annotations (with --images)")
    p.add_argument("--memory-sizes", default="200,800", help="dataset sizes for the memory part ('' to skip)")
    p.add_argument("--memory-resize", type=int, default=112, help="input size for the memory part (speed only)")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--out", help="write all results as JSON here")
    p.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    args = p.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    if args.memory_child:
        memory_child(args.memory_child, args.memory_resize, args.workers, args.arch)
        return
    args.memory_sizes = [int(s) for s in args.memory_sizes.split(",") if s.strip()]
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "cpu_count": os.cpu_count()}
    if not args.skip_throughput:
        t = throughput(args)
        results["throughput"] = t
        print(f"## Throughput ({t['arch']}, {t['source']}, {t['torch_threads']} torch threads, "
              f"{t['workers']} workers)\n")
        print("| run | extraction images/s | extraction tensors/s | bare tensors/s (NCHW) "
              "| bare tensors/s (channels-last) | ratio vs NCHW | ratio vs channels-last |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for i, r in enumerate(t["runs"], 1):
            print(f"| {i} | {r['extract_images_per_s']:.1f} | {r['extract_tensors_per_s']:.1f} | "
                  f"{r['bare_tensors_per_s']:.1f} | "
                  f"{r['bare_channels_last_tensors_per_s']:.1f} | {r['ratio']:.2f} | {r['ratio_channels_last']:.2f} |")
        print(f"\nmedian ratio {t['median_ratio']:.2f} vs the default bare pass, {t['median_ratio_channels_last']:.2f} "
              "vs the channels-last bare pass (target >= 0.80)\n")
    if args.memory_sizes:
        m = memory(args)
        results["memory"] = m
        print(f"## Peak RSS (fresh process per size, {args.arch}, input {args.memory_resize}px, "
              f"{args.workers} workers)\n")
        print("| images | seconds | RSS before extraction (MB) | peak RSS main (MB) | peak PSS main + workers (MB) "
              "| features on disk (MB) |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in m:
            print(f"| {r['n_images']} | {r['seconds']:.1f} | {r['rss_before_extraction_mb']:.0f} | "
                  f"{r['peak_rss_main_mb']:.0f} | "
                  f"{r['peak_pss_main_plus_workers_mb']:.0f} | {r['features_on_disk_mb']:.1f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
