"""Training checkpoints: model, optimiser and RNG states written atomically, read back and checked to
belong to the same run."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ncc.serialization import _atomic_write
from ncc.train_config import CHECKPOINT_FORMAT

# ----------------------------------------------------------------------------------------------
# Checkpoints.
# ----------------------------------------------------------------------------------------------

class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or from a different run configuration."""


class TrainingInterrupted(KeyboardInterrupt):
    """Raised on Ctrl-C after the checkpoint of the last finished step has been written."""

    def __init__(self, member: int, step: int, checkpoint: Optional[Path]) -> None:
        super().__init__(f"interrupted at member {member}, step {step}")
        self.member, self.step, self.checkpoint = member, step, checkpoint


def _numpy_rng_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _set_numpy_rng_state(state: dict) -> None:
    np.random.set_state((state["kind"], state["keys"].numpy().astype(np.uint32), state["pos"],
                         state["has_gauss"], state["cached_gaussian"]))


def _write_checkpoint(path: Path, state: dict) -> None:
    _atomic_write(path, lambda tmp: torch.save(state, tmp))


def _read_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise CheckpointError(f"no checkpoint to resume from at {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # no code can run
    except Exception as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{str(path)!r} is not an ncc training checkpoint")
    return state


def _check_same_run(state: dict, expected: dict, path: Path) -> None:
    for key, value in expected.items():
        if state.get(key) != value:
            stored = state.get(key)
            if isinstance(value, dict) and isinstance(stored, dict):
                diff = sorted(k for k in set(value) | set(stored) if value.get(k) != stored.get(k))
                detail = ", ".join(f"{k}: checkpoint {stored.get(k)!r} vs now {value.get(k)!r}" for k in diff)
            else:
                detail = f"checkpoint {stored!r} vs now {value!r}"
            raise CheckpointError(f"checkpoint {str(path)!r} is from a different run ({key} differs: {detail}); "
                                  "rerun with the same options, or drop --resume to start over")
