"""The one rule for ``device`` in vision: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (N an existing GPU).

``auto`` picks CUDA when available; under torchrun it takes the GPU of this process
(``LOCAL_RANK``). The rules are ncc's (:mod:`ncc.devices`); this module adds the early spelling
check, so a bad value is a one-line ValueError before any work starts.
"""
from __future__ import annotations

import re

import torch

from ncc.devices import resolve_device as ncc_resolve_device

_SPEC = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_spec(spec: str) -> None:
    """Refuse a device text that is none of auto, cpu, cuda, cuda:N (without looking for GPUs)."""
    if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {spec!r}")


def resolve_device(spec: str) -> torch.device:
    """The torch device for ``spec`` (:func:`ncc.devices.resolve_device`, the project's one resolver),
    after the spelling check; a ValueError when it names a GPU this machine does not have."""
    check_device_spec(spec)
    return ncc_resolve_device(spec)
