"""Decoding and the documented preprocessing, applied identically to all three image versions.

1. resize so the shorter side is ``resize`` pixels (bilinear, antialiased; paper: 224);
2. centre-crop ``crop`` × ``crop`` (paper: 224);
3. scale to [0, 1];
4. normalise with the ImageNet mean and std.

Steps 1–2 run on uint8 channels-last tensors in DataLoader workers (torch's antialiased uint8
resize is fast on that layout and matches PIL's to within one grey level); steps 3–4 run batched in the main process.
These are the same operations as torchvision's ``weights.transforms()`` except for the resize
size (torchvision resizes to 256 before the 224 crop; the paper resizes to 224).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    resize: int = 224  # shorter side after resizing; the paper's 224 keeps the whole short side in the crop
    crop: int = 224  # square centre crop fed to the network
    mean: tuple[float, float, float] = IMAGENET_MEAN  # the statistics the ImageNet weights were trained with
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        if self.resize < 1 or self.crop < 1:
            raise ValueError(f"resize ({self.resize}) and crop ({self.crop}) must be positive")
        if self.crop > self.resize:
            raise ValueError(f"crop ({self.crop}) larger than the resized shorter side ({self.resize}) "
                             "would pad with black")

    @classmethod
    def from_weights(cls, weights, resize: int = 224, crop: int | None = None) -> "Preprocessing":
        """Take mean and std from a torchvision weights enum's ``transforms()``; sizes stay ours."""
        crop = resize if crop is None else crop
        if weights is None:
            return cls(resize=resize, crop=crop)
        tf = weights.transforms()
        mean = tuple(float(v) for v in getattr(tf, "mean", IMAGENET_MEAN))
        std = tuple(float(v) for v in getattr(tf, "std", IMAGENET_STD))
        return cls(resize=resize, crop=crop, mean=mean, std=std)

    def to_json(self) -> dict:
        d = asdict(self)
        d["steps"] = [f"resize shorter side to {self.resize} (bilinear, antialiased)",
                      f"centre-crop {self.crop}x{self.crop}", "scale to [0, 1]",
                      f"normalise with mean {list(self.mean)} and std {list(self.std)}"]
        return d


#: Default cap on the pixels of an image, decoded or after the resize (``--max-pixels``): a small
#: PNG can declare 20000 x 2 pixels, which the shorter-side resize turns into 500 million.
MAX_PIXELS = 40_000_000


class ImageTooLarge(ValueError):
    """An image whose decoded or resized size exceeds the pixel cap; it is skipped, not decoded."""


def check_size(width: int, height: int, prep: "Preprocessing", max_pixels: int = MAX_PIXELS) -> None:
    """Raise :class:`ImageTooLarge` before decoding when either size would exceed ``max_pixels``."""
    short, long = sorted((int(width), int(height)))
    resized = prep.resize * max(prep.resize, -(-long * prep.resize // max(short, 1)))
    if width * height > max_pixels or resized > max_pixels:
        raise ImageTooLarge(f"image too large: {width}x{height} pixels ({resized} after the resize), "
                            f"more than --max-pixels {max_pixels}")


def decode_image(path: str, prep: "Preprocessing | None" = None, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """Read an image file as a ``(3, H, W)`` uint8 RGB tensor in the stored orientation (no EXIF
    rotation: box coordinates refer to the stored pixels).

    Only regular files are opened (a FIFO or a device would block); the size declared in the
    header is checked against ``max_pixels`` before any pixel is decoded.
    The tensor is a view of PIL's ``(H, W, 3)`` buffer, i.e. channels-last in memory, which is
    the layout torch's fast uint8 antialiased resize wants.
    """
    import os
    import stat

    import numpy as np
    from PIL import Image

    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError("not a regular file")
    with Image.open(path) as im:
        check_size(im.width, im.height, prep or Preprocessing(), max_pixels)
        arr = np.asarray(im.convert("RGB"))
    return torch.from_numpy(arr.copy() if not arr.flags.writeable else arr).permute(2, 0, 1)


def resize_and_crop(images: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Steps 1–2 on ``(…, 3, H, W)`` uint8 images: shorter side to ``prep.resize``, centre crop."""
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as F

    out = F.resize(images, [prep.resize], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return F.center_crop(out, [prep.crop, prep.crop])


def normalize(batch: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Steps 3–4: uint8 ``(N, 3, S, S)`` -> float32 scaled to [0, 1] and normalised."""
    mean = torch.tensor(prep.mean, dtype=torch.float32, device=batch.device).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, dtype=torch.float32, device=batch.device).view(1, 3, 1, 1)
    return (batch.to(torch.float32) / 255.0 - mean) / std
