"""Category names: the 20 PASCAL VOC classes, COCO's spelling of them, and `--categories` parsing."""
from __future__ import annotations

from typing import Iterable, Sequence

#: The paper analyses the 20 PASCAL VOC categories (reference §3), in VOC's own order.
VOC_CATEGORIES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)

#: COCO spells six of the VOC classes differently; we always report the VOC spelling.
COCO_TO_VOC: dict[str, str] = {
    "airplane": "aeroplane",
    "motorcycle": "motorbike",
    "couch": "sofa",
    "tv": "tvmonitor",
    "dining table": "diningtable",
    "potted plant": "pottedplant",
}


def canonical_name(name: str) -> str:
    """The name we use for a dataset's category: stripped, lower case, COCO names mapped to VOC's."""
    key = " ".join(name.strip().lower().split())
    return COCO_TO_VOC.get(key, key)


def select_categories(spec: str | Sequence[str] | None, available: Iterable[str]) -> list[str]:
    """Resolve a `--categories` value against the (canonical) categories present in a dataset.

    ``None`` or ``"voc"`` gives the 20 VOC categories that occur in the dataset (in VOC order),
    ``"all"`` every category of the dataset (sorted), and a comma-separated string or a list
    names them explicitly (COCO or VOC spelling). An explicit name the dataset lacks is an error,
    because a silently empty category would make every statistic about it meaningless.
    """
    present = sorted(set(available))
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "voc")):
        return [c for c in VOC_CATEGORIES if c in present]
    if isinstance(spec, str) and spec.strip().lower() == "all":
        return present
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: list[str] = []
    for raw in names:
        if not raw.strip():
            continue
        name = canonical_name(raw)
        if name not in present:
            shown = ", ".join(present[:30]) + (" …" if len(present) > 30 else "")
            raise ValueError(f"category {raw.strip()!r} is not in the annotations (they have: {shown})")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise ValueError("--categories names no category")
    return chosen
