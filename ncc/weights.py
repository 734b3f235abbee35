"""The shipped pretrained models, one enum member each (in the manner of torchvision's weight enums).

``ncc.Weights.DEFAULT`` is the direction model that ``ncc.load()`` and every ``--model`` default use;
``ncc.LinkWeights.DEFAULT`` the link model (P(no causal link)). Each member knows its file (``path``),
what it is (``meta``: recipe, training data, recorded accuracies, SHA-256 and size) and can check that
the installed file is that one (``verify()``). The figures in ``meta`` are the ones README and
benchmarks/RESULTS.md record, with the command that produced each.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ncc._hashing import file_sha256

#: Folder of the shipped model files; the one place tests point elsewhere (monkeypatch this name).
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"


@dataclass(frozen=True)
class _Entry:
    filename: str
    meta: dict = field(hash=False, compare=False)


class _ShippedFile:
    """What both registries share: the file, its meta, the hash check and loading."""

    value: _Entry

    @property
    def path(self) -> Path:
        return PRETRAINED_DIR / self.value.filename  # read at call time, so a patched folder is seen

    @property
    def meta(self) -> dict:
        return dict(self.value.meta)

    def verify(self) -> Path:
        """The file's path, after checking its size and SHA-256 against ``meta``; ModelFileError otherwise."""
        from ncc.serialization import ModelFileError

        path = self.path
        if not path.is_file():
            raise ModelFileError(path, f"the shipped model {self.name} is not installed")
        size, digest = path.stat().st_size, file_sha256(path)
        if size != self.value.meta["size"] or digest != self.value.meta["sha256"]:
            raise ModelFileError(path, f"is not the shipped {self.name} (sha256 {digest[:16]}…, {size} bytes; "
                                       f"expected {self.value.meta['sha256'][:16]}…, {self.value.meta['size']} bytes)")
        return path


class Weights(_ShippedFile, Enum):
    """Direction models: P(first column causes the second)."""

    NCC_HYBRID_E3_V1 = _Entry("ncc-default.safetensors", {
        "recipe": "ncc train --ensemble 3 --seed 0 --threads 2 --no-progress -o ncc-default.safetensors",
        "training_data": "synthetic pairs only, generated on the fly from ncc.train.DEFAULT_GENERATOR "
                         "(3 members x 3,000 steps)",
        "heldout_accuracy": 0.9,  # 1,000 held-out synthetic pairs (ncc-default.json, "heldout")
        "tuebingen_accuracy": 0.671,  # weighted, benchmarks/accuracy.py (README "Accuracy on real pairs")
        "sha256": "64418ca724a01d8946b71c6ed37ca09ad3be725c474a7893c3908ccb82adbc9b",
        "size": 432332,
    })
    DEFAULT = NCC_HYBRID_E3_V1

    def load(self, device="cpu"):
        from ncc.serialization import load_model

        return load_model(self.path, device=device)


class LinkWeights(_ShippedFile, Enum):
    """Link models: P(no causal link between the two columns)."""

    NCC_LINK_V1 = _Entry("ncc-link.safetensors", {
        "recipe": "ncc train --head link --steps 4000 --lr-schedule cosine --seed 0 --threads 1 --no-progress "
                  "-o ncc/pretrained/ncc-link.safetensors",
        "training_data": "synthetic pairs only: DEFAULT_GENERATOR with DEFAULT_LINK_GENERATOR's kinds "
                         "(causal, independent, confounded at 2:1:1)",
        "heldout_accuracy": 0.805,  # p_none > 0.5 on 1,000 held-out synthetic pairs (ncc-link.json)
        "heldout_auc": 0.8974372309612584,  # ncc-link.json, "heldout"
        "tuebingen_auc": 0.979,  # linked pairs vs column-permuted copies, benchmarks/link.py (README)
        "sha256": "ccc7bf2e661f7fed097455d7546ea7b65d02ca214d9356364e0b3d7f26a7bb8d",
        "size": 42436,
    })
    DEFAULT = NCC_LINK_V1

    def load(self, device="cpu"):
        from ncc.serialization import load_link_model

        return load_link_model(self.path, device=device)
