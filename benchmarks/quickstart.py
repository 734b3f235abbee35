"""Time README's Quickstart and its scikit-learn example exactly as written.

    python benchmarks/quickstart.py [--readme README.md] [--runs 2] [--sklearn] [--threads 2]

* **Quickstart**: the command in the code block after ``<!-- quickstart -->`` in README, without
  its leading ``pip install . &&`` (the time asked for is the time *after* the install), run
  ``--runs`` times in one fresh temporary folder with bash. The second run proves the Quickstart
  can be run twice in the same place. Prints each run's wall time and exit status.
* **--sklearn**: the Python block after ``<!-- sklearn-example -->``, executed as is (in a fresh
  namespace, torch limited to ``--threads`` threads), with its wall time.

The ``ncc`` on PATH (or ``python -m ncc._entry``) must be this checkout (e.g. ``export PYTHONPATH=$PWD``).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INSTALL_PREFIX = re.compile(r"^\s*pip install [^&]*&&\s*")


def block_after(readme: str, marker: str) -> str:
    """The body of the first fenced code block after ``marker``."""
    start = readme.index(marker)
    m = re.search(r"```[a-z]*\n(.*?)```", readme[start:], re.S)
    if not m:
        raise ValueError(f"no code block after {marker}")
    return m.group(1)


def quickstart_command(readme: str) -> str:
    body = block_after(readme, "<!-- quickstart -->").strip()
    return INSTALL_PREFIX.sub("", body)


def run_quickstart(command: str, runs: int) -> list[tuple[float, int]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="ncc-quickstart-") as folder:
        for i in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run(["bash", "-c", command], cwd=folder, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
            seconds = time.perf_counter() - t0
            results.append((seconds, proc.returncode))
            print(f"run {i + 1}: {seconds:.1f} s, exit {proc.returncode}")
            if i == 0:
                print(proc.stdout)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readme", type=Path, default=Path(__file__).resolve().parents[1] / "README.md")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--sklearn", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)

    readme = args.readme.read_text(encoding="utf-8")
    command = quickstart_command(readme)
    print(f"Quickstart (after install): {command}\nCPUs available: {len(os.sched_getaffinity(0))}")
    results = run_quickstart(command, args.runs)
    if args.sklearn:
        import torch

        torch.set_num_threads(args.threads)
        code = block_after(readme, "<!-- sklearn-example -->")
        t0 = time.perf_counter()
        exec(compile(code, "README sklearn example", "exec"), {"__name__": "__readme__"})
        print(f"scikit-learn example: {time.perf_counter() - t0:.0f} s on {args.threads} threads")
    return 0 if all(rc == 0 for _, rc in results) else 1


if __name__ == "__main__":
    sys.exit(main())
