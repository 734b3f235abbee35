"""NCC model files: safetensors only, so loading a model can never run code.

File layout (``MODEL.safetensors``):

* tensors ``members.{k}.{name}``: the state dict of ensemble member k (a single network is an
  ensemble of one);
* header metadata (strings): ``format = "ncc-model"``, ``format_version``, ``config`` (the
  :class:`~ncc.model.NCCConfig` as JSON), ``n_members``, ``ncc_version``.

A link model (:class:`~ncc.link.LinkModel`, P(no causal link)) has the same layout with
``format = "ncc-link-model"`` and, when saved with training metadata, its ``recipe`` (model and
training configs, generator, seed, command, version) as JSON in the header too. Each loader
refuses the other kind by name.

Training metadata (generator config, seed, steps, held-out metrics, command line, ...) goes in a
JSON sidecar with the same stem: ``MODEL.json``. The sidecar is informative; the safetensors file
alone is enough to load the model.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Union

import torch

from ncc import _modelfile
from ncc._version import __version__
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.weights import LinkWeights, Weights
from synthetic._atomic import atomic_write

__all__ = [
    "ModelFileError",
    "FORMAT",
    "FORMAT_VERSION",
    "save_model",
    "load_model",
    "model_to_bytes",
    "model_from_bytes",
    "metadata_path",
    "read_metadata",
    "write_json_atomic",
    "LINK_FORMAT",
    "load_link_model",
]

FORMAT = "ncc-model"
FORMAT_VERSION = 1
LINK_FORMAT = "ncc-link-model"


def __getattr__(name: str):
    """``DEFAULT_MODEL_PATH`` / ``DEFAULT_LINK_MODEL_PATH``: the registry's files (ncc.weights), not copies."""
    from ncc.weights import LinkWeights, Weights

    if name == "DEFAULT_MODEL_PATH":
        return Weights.DEFAULT.path
    if name == "DEFAULT_LINK_MODEL_PATH":
        return LinkWeights.DEFAULT.path
    raise AttributeError(f"module 'ncc.serialization' has no attribute {name!r}")

#: Metadata keys copied into a link model's header as its recipe.
_RECIPE_KEYS = ("ncc_version", "model_config", "train_config", "data", "seed", "command")

Model = Union[NCC, NCCEnsemble]


class ModelFileError(ValueError):
    """A model file is missing, corrupt, or not a safe NCC model file. The message names the path."""

    def __init__(self, path: Union[str, os.PathLike], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"model file {str(path)!r}: {problem}")


def metadata_path(path: Union[str, os.PathLike]) -> Path:
    """The JSON sidecar of a model file."""
    return Path(path).with_suffix(".json")


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file.
    ``write(tmp_name)`` fills the temporary file; permissions follow the umask."""
    atomic_write(path, write, name_only=True)


def write_json_atomic(path: Union[str, os.PathLike], data: dict) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
    _atomic_write(Path(path), write)


def _tensors_and_header(model: Model, metadata: Optional[dict] = None) -> tuple[dict, dict]:
    from ncc.link import LinkModel

    if not isinstance(model, (NCC, NCCEnsemble, LinkModel)):
        raise TypeError(f"expected an NCC, NCCEnsemble or LinkModel, got {type(model).__name__}")
    link = isinstance(model, LinkModel)
    tensors = {
        f"members.{k}.{name}": tensor.detach().cpu().contiguous()
        for k, member in enumerate(model.members)
        for name, tensor in member.state_dict().items()
    }
    header = {
        "format": LINK_FORMAT if link else FORMAT,
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(model.config.to_dict()),
        "n_members": str(len(model.members)),
        "ncc_version": __version__,
    }
    if link and metadata is not None:  # a link model carries its recipe in the file itself
        header["recipe"] = json.dumps({k: metadata[k] for k in _RECIPE_KEYS if k in metadata}, sort_keys=True)
    return tensors, header


def save_model(model: Model, path: Union[str, os.PathLike], metadata: Optional[dict] = None) -> Path:
    """Save ``model`` (an NCC, NCCEnsemble or LinkModel) to ``path`` (+ ``metadata`` as a JSON
    sidecar; a link model also stores its recipe from it in the safetensors header)."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors, header = _tensors_and_header(model, metadata)
    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))
    if metadata is not None:
        write_json_atomic(metadata_path(path), metadata)
    return path


def model_to_bytes(model: Model) -> bytes:
    """The model file's bytes (safetensors), e.g. to pickle an estimator without pickling torch."""
    from safetensors.torch import save

    tensors, header = _tensors_and_header(model)
    return save(tensors, metadata=header)


def model_from_bytes(data: bytes, name: str = "<bytes>") -> Model:
    """Inverse of :func:`model_to_bytes`, with the checks of :func:`load_model`."""
    from safetensors.torch import load

    _refuse_foreign(_modelfile.sniff(data[:9], len(data)), name)
    raw = _parse_raw_header(data[8:8 + _modelfile.header_length(data)], name)
    config, n_members = _checked_header(raw, name)
    try:
        tensors = load(data)
    except Exception as exc:  # any damage: safetensors raises its own types
        raise ModelFileError(name, f"not a valid safetensors payload ({exc})") from None
    return _build_model(tensors, config, n_members, name)


def read_metadata(path: Union[str, os.PathLike]) -> Optional[dict]:
    """The JSON sidecar of a model file, or None when there is none (or it is unreadable)."""
    sidecar = metadata_path(path)
    try:
        with open(sidecar, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _refuse_foreign(kind: str, where) -> None:
    if kind in ("pickle", "zip"):
        raise ModelFileError(where, "is a pickle / torch.save file; refused without loading it, because "
                                    "unpickling can run arbitrary code (NCC model files are safetensors)")
    if kind != "safetensors":
        raise ModelFileError(where, "not a valid safetensors file (no 8-byte header length followed by "
                                    "a JSON header)")


def _read_raw_header(path: Path) -> dict:
    """The safetensors header of a file, read and parsed without touching the tensor data."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(9)
            if not head:
                raise ModelFileError(path, "is empty")
            _refuse_foreign(_modelfile.sniff(head, size), path)
            fh.seek(8)
            raw = fh.read(_modelfile.header_length(head))
    except IsADirectoryError:
        raise ModelFileError(path, "is a directory, not a model file") from None
    except FileNotFoundError:
        raise ModelFileError(path, "no such file") from None
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return _parse_raw_header(raw, path)


def _parse_raw_header(raw: bytes, where) -> dict:
    try:
        return _modelfile.parse_header(raw)
    except ValueError as exc:  # json's and unicode's errors are ValueErrors too
        raise ModelFileError(where, f"not a valid safetensors file ({exc})") from None


def load_model(path: Union[str, os.PathLike], device: Union[str, torch.device] = "cpu") -> Model:
    """Load a model file written by :func:`save_model`; never unpickles anything.

    Returns an :class:`NCC` (one member) or an :class:`NCCEnsemble`, in eval mode, with the sidecar
    metadata (or None) in ``model.metadata`` and the file in ``model.source_path``.
    Raises :class:`ModelFileError` for a missing, corrupt, foreign or pickle file.
    """
    path = Path(path)
    if path == Weights.DEFAULT.path and not path.exists():
        raise ModelFileError(path, "the default pretrained model is not installed; pass a model file "
                                   "(model=... / --model PATH) or build it with `ncc train` (see README)")
    return _load(path, device, FORMAT)


def load_link_model(path: Union[str, os.PathLike], device: Union[str, torch.device] = "cpu"):
    """Load a link model file (:class:`~ncc.link.LinkModel`, P(no causal link)); checks as
    :func:`load_model`, and ``model.recipe`` holds the recipe stored in the header (or None)."""
    path = Path(path)
    if path == LinkWeights.DEFAULT.path and not path.exists():
        raise ModelFileError(path, "the shipped link model is not installed; pass a link model file "
                                   "(link_model=... / --link-model PATH) or build it with `ncc train --head link`")
    return _load(path, device, LINK_FORMAT)


def _load(path: Path, device, expected: str):
    from safetensors import safe_open

    if path.is_dir():
        raise ModelFileError(path, "is a directory, not a model file")
    raw = _read_raw_header(path)
    config, n_members = _checked_header(raw, path, expected)  # before any allocation
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except Exception as exc:  # safetensors raises its own error types for every kind of damage
        raise ModelFileError(path, f"not a valid safetensors file ({exc})") from None
    model = _build_model(tensors, config, n_members, path, link=expected == LINK_FORMAT).to(device)
    model.metadata = read_metadata(path)
    model.source_path = str(path)
    if expected == LINK_FORMAT:
        try:
            model.recipe = json.loads((raw.get("__metadata__") or {}).get("recipe", "null"))
        except ValueError:
            model.recipe = None
    return model


def _checked_header(raw: dict, where, expected: str = FORMAT) -> tuple[NCCConfig, int]:
    """Config and member count of a parsed safetensors header, after checking every type and
    every tensor shape against them: nothing is allocated for a header that lies."""
    header = raw.get("__metadata__") or {}
    if not isinstance(header, dict) or header.get("format") != expected:
        found = header.get("format") if isinstance(header, dict) else None
        if found == LINK_FORMAT:
            raise ModelFileError(where, "is a link model (P(no causal link)), not a direction model; "
                                        "pass it as the link model (link_model=... / --link-model)")
        if found == FORMAT:
            raise ModelFileError(where, "is a direction model, not a link model (P(no causal link)); "
                                        "train one with `ncc train --head link`")
        raise ModelFileError(where, f"not an NCC model file (safetensors metadata 'format' is "
                                    f"{found!r}, expected {expected!r})")
    try:
        version = int(header["format_version"])
        values = json.loads(header["config"])
        n_members = int(header["n_members"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(where, f"corrupt NCC metadata ({exc})") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(where, f"format version {version} is newer than this ncc ({FORMAT_VERSION}); "
                                    "upgrade ncc")
    problem = _modelfile.config_problem(values)
    if problem:
        raise ModelFileError(where, f"corrupt NCC metadata ({problem})")
    try:
        config = NCCConfig.from_dict(values)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(where, f"corrupt NCC metadata ({exc})") from None
    if n_members < 1:
        raise ModelFileError(where, f"corrupt NCC metadata (n_members={n_members})")
    problem = _modelfile.layout_problem(raw, config, n_members)
    if problem:
        raise ModelFileError(where, f"weights do not match the stored config: {problem}")
    return config, n_members


def _build_model(tensors: dict, config: NCCConfig, n_members: int, where, link: bool = False) -> Model:
    """Check the values and build the model (eval mode, on CPU); shapes were checked already."""
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFileError(where, f"tensor {key!r} holds NaN or infinite values")
        if key.endswith(".running_var") and bool((tensor < 0).any()):
            raise ModelFileError(where, f"tensor {key!r} holds negative variances")
    members = []
    for k in range(n_members):
        prefix = f"members.{k}."
        state = {key[len(prefix):]: t for key, t in tensors.items() if key.startswith(prefix)}
        member = NCC(config)
        try:
            member.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise ModelFileError(where, f"weights do not match the stored config (member {k}: {first})") from None
        members.append(member)
    if link:
        from ncc.link import LinkModel

        return LinkModel(members).eval()
    model: Model = members[0] if n_members == 1 else NCCEnsemble(members)
    return model.eval()
