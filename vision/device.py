"""The one rule for ``device`` in vision: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (N an existing GPU).

``auto`` picks CUDA when available; under torchrun it takes the GPU of this process
(``LOCAL_RANK``), so the processes of one machine do not all share GPU 0. Anything that cannot be
used is a one-line ValueError naming the value, raised before any work starts.
"""
from __future__ import annotations

import os
import re

import torch

_SPEC = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_spec(spec: str) -> None:
    """Refuse a device text that is none of auto, cpu, cuda, cuda:N (without looking for GPUs)."""
    if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {spec!r}")


def resolve_device(spec: str) -> torch.device:
    """The torch device for ``spec``; a ValueError when it names a GPU this machine does not have."""
    check_device_spec(spec)
    if spec == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local = os.environ.get("LOCAL_RANK", "")
        if local.strip().isdigit() and torch.cuda.device_count() > 1:
            return torch.device(f"cuda:{int(local) % torch.cuda.device_count()}")
        return torch.device("cuda")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"--device {spec} requested but CUDA is not available")
    index = int(spec.split(":", 1)[1]) if ":" in spec else None
    count = torch.cuda.device_count()
    if index is not None and index >= count:
        raise ValueError(f"--device {spec}: this machine has {count} CUDA device(s) (cuda:0 to cuda:{count - 1})")
    return torch.device(spec)
