"""Checks on a model file's bytes and header, made before any tensor is allocated.

A file is recognised by its structure, never by a first byte alone: safetensors is an 8-byte
little-endian header length followed by that many bytes of JSON object, so its first byte is
whatever the length is modulo 256 (0x80 included, which is also the pickle opcode PROTO).
"""
from __future__ import annotations

import json
from typing import Optional

#: The safetensors library refuses longer headers too; bounds what a hostile file can make us read.
MAX_HEADER_BYTES = 100_000_000
#: Scoring cost grows with these; beyond them a header is taken as corrupt, not as a model.
MAX_SUBSAMPLES = 1000
MAX_POINTS = 1_000_000
MAX_LAYERS = 64

_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}


def sniff(head: bytes, size: int) -> str:
    """"safetensors" when the first bytes can start a safetensors file of ``size`` bytes,
    else "zip" (torch.save), "pickle" or "unknown". ``head`` needs 9 bytes at least."""
    if len(head) >= 9:
        n = int.from_bytes(head[:8], "little")
        if 2 <= n <= min(size - 8, MAX_HEADER_BYTES) and head[8:9] == b"{":
            return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    return "unknown"


def header_length(head: bytes) -> int:
    return int.from_bytes(head[:8], "little")


def parse_header(raw: bytes) -> dict:
    """The safetensors JSON header; ValueError when it is not a JSON object of tensor entries."""
    header = json.loads(raw.decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("the safetensors header is not a JSON object")
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if not (isinstance(entry, dict) and isinstance(entry.get("shape"), list)
                and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in entry["shape"])):
            raise ValueError(f"tensor {key!r} has no valid shape in the header")
    return header


def config_problem(values) -> Optional[str]:
    """What is wrong with the types or sizes of a stored NCCConfig (before NCCConfig sees it)."""
    from dataclasses import MISSING, fields

    from ncc.model import NCCConfig

    if not isinstance(values, dict):
        return f"config is a {type(values).__name__}, expected a JSON object"
    for f in fields(NCCConfig):  # each field must have the JSON type of its default ("no" is not false)
        if f.name not in values or f.default is MISSING:
            continue
        value, default = values[f.name], f.default
        if isinstance(default, bool) and not isinstance(value, bool):
            return f"config field {f.name} must be true or false, got {value!r}"
        if isinstance(default, int) and not isinstance(default, bool) \
                and (isinstance(value, bool) or not isinstance(value, int)):
            return f"config field {f.name} must be an integer, got {value!r}"
        if isinstance(default, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"config field {f.name} must be a number, got {value!r}"
    if values.get("n_subsamples", 1) > MAX_SUBSAMPLES:
        return f"config field n_subsamples={values['n_subsamples']} is above {MAX_SUBSAMPLES}"
    if values.get("max_points", 2) > MAX_POINTS:
        return f"config field max_points={values['max_points']} is above {MAX_POINTS}"
    for name in ("embed_layers", "classifier_layers"):
        if values.get(name, 1) > MAX_LAYERS:
            return f"config field {name}={values[name]} is above {MAX_LAYERS}"
    return None


def expected_shapes(config) -> dict[str, tuple[tuple[int, ...], bool]]:
    """Tensor name -> (shape, is floating) of one member, from a network built on the meta
    device (no memory is allocated, whatever the dimensions)."""
    import torch

    from ncc.model import NCC

    with torch.device("meta"):
        net = NCC(config)
    return {k: (tuple(v.shape), v.is_floating_point()) for k, v in net.state_dict().items()}


def layout_problem(header: dict, config, n_members: int) -> Optional[str]:
    """The first tensor missing, extra or of the wrong shape or kind, or None."""
    member = expected_shapes(config)
    stored = {k: v for k, v in header.items() if k != "__metadata__"}
    if len(stored) != n_members * len(member):
        return f"holds {len(stored)} tensors, expected {n_members * len(member)} ({n_members} members)"
    for k in range(n_members):
        for name, (shape, floating) in member.items():
            key = f"members.{k}.{name}"
            entry = stored.get(key)
            if entry is None:
                return f"tensor {key!r} is missing"
            if tuple(entry["shape"]) != shape:
                return f"tensor {key!r} has shape {tuple(entry['shape'])}, the stored config needs {shape}"
            if (entry.get("dtype") in _FLOAT_DTYPES) != floating:
                kind = "float" if floating else "integer"
                return f"tensor {key!r} has dtype {entry.get('dtype')!r}, expected a {kind} type"
    return None
