"""An up-front memory estimate for ``ncc generate``: refuse a run the machine cannot hold,
instead of being killed by the OOM killer minutes later."""
from __future__ import annotations

import os
from typing import Optional

#: Bytes per stored point: two float64 values, plus one copy when the file is written.
_STORED = {"npz": 32, "cepc": 32 + 60, "tuebingen": 32 + 60}  # text formats: ~25 characters per value
#: Bytes per point of the working arrays of the pair being generated (cause, noise, spline...).
_WORKING = 200


def estimate_bytes(n_pairs: int, n_points, fmt: str) -> int:
    """Peak bytes of ``generate`` (an upper estimate: ranges count at their largest size)."""
    largest = max(n_points) if isinstance(n_points, (tuple, list)) else int(n_points)
    mean = (min(n_points) + largest) / 2 if isinstance(n_points, (tuple, list)) else largest
    return int(n_pairs * mean * _STORED.get(fmt, _STORED["cepc"]) + largest * _WORKING)


def available_bytes() -> Optional[int]:
    """Memory this process may still use: MemAvailable, or the cgroup limit if lower; None if unknown."""
    found = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                text = fh.read().strip()
            if text.isdigit() and int(text) < 1 << 60:
                found.append(int(text))
        except OSError:
            pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(found)


def check_memory(n_pairs: int, n_points, fmt: str) -> None:
    """ValueError (one line, naming the options) when the estimate exceeds what is available."""
    need, have = estimate_bytes(n_pairs, n_points, fmt), available_bytes()
    if have is not None and need > have:
        raise ValueError(f"--n-pairs {n_pairs} with --n-points {_fmt_points(n_points)} needs about {_gib(need)} of "
                         f"memory, more than the {_gib(have)} available; generate fewer or smaller pairs "
                         "(several files with different --seed values)")


def _fmt_points(n_points) -> str:
    return f"{n_points[0]}:{n_points[1]}" if isinstance(n_points, (tuple, list)) else str(n_points)


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"
