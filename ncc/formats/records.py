"""What every reader returns: :class:`PairRecord` (one pair, or why it cannot be scored), and
:class:`FormatError` (the input as a whole cannot be read)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ncc.formats.status import OK, PairStatus, status_code

__all__ = ["FormatError", "PairRecord", "PairStatus", "status_code"]


class FormatError(ValueError):
    """The input as a whole cannot be read (unknown format, missing path, no pair files)."""

@dataclass
class PairRecord:
    """One cause-effect pair as read from disk.

    ``data`` is an ``(n, 2)`` float array (first column = first variable) or ``None`` when the
    pair cannot be scored; ``status`` is a :class:`~ncc.formats.status.PairStatus`: ``ok`` or
    a code saying why not, with an optional detail (a plain string given here is parsed).
    ``truth`` is 1 when the first column causes the second, 0 for the reverse, ``None`` when
    unknown or not requested. ``linked``
    is False for a pair known to have no causal link (CEPC target 0; its ``truth`` is None),
    True for a CEPC target of ±1, None when the file does not say.
    """

    pair_id: str
    data: np.ndarray | None
    truth: int | None = None
    weight: float = 1.0
    status: PairStatus = OK
    source: str = ""
    linked: bool | None = None

    def __post_init__(self):
        self.status = PairStatus.parse(self.status)

    @property
    def n_points(self) -> int | None:
        return None if self.data is None else int(self.data.shape[0])
