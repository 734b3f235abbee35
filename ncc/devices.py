"""The project's one device resolver: ``ncc train``, ``ncc.load`` users and ``ncc vision`` share its rules."""
from __future__ import annotations

import os
import re

import torch

from ncc._params import ParameterError

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N"
_CUDA = re.compile(r"^cuda(?::(\d+))?$")


def resolve_device(spec: str) -> torch.device:
    """``auto``: CUDA when available, else CPU; under torchrun, the GPU of this process (``LOCAL_RANK``),
    so the processes of one machine do not all share GPU 0. ``cuda`` / ``cuda:N`` must exist."""
    spec = str(spec).strip().lower()
    if spec == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local = os.environ.get("LOCAL_RANK", "")
        if local.strip().isdigit() and torch.cuda.device_count() > 1:
            return torch.device(f"cuda:{int(local) % torch.cuda.device_count()}")
        return torch.device("cuda")
    if spec == "cpu":
        return torch.device("cpu")
    match = _CUDA.match(spec)
    if match is None:
        raise ParameterError("device", spec, f"must be one of {DEVICE_CHOICES}",
                             message=f"unknown device {spec!r}; valid: {DEVICE_CHOICES}")
    if not torch.cuda.is_available():
        raise ParameterError("device", spec, "names a CUDA GPU, but none is available (use auto or cpu)",
                             message=f"--device {spec}: no CUDA GPU is available (use auto or cpu)")
    if match.group(1) is not None and int(match.group(1)) >= torch.cuda.device_count():
        visible = f"only {torch.cuda.device_count()} CUDA GPU(s) are visible"
        raise ParameterError("device", spec, f"names a GPU that does not exist ({visible})",
                             message=f"--device {spec}: {visible}")
    return torch.device(spec)
