"""Pair statuses: a :class:`StatusCode` plus a free-text detail.

A status is written as its code, then the detail in parentheses when there is one:
``ok``, ``ok (dropped 3 non-finite rows)``, ``too_few_points (5 < 10)``. That text is what the
``status`` column of every CSV holds, so :class:`PairStatus` is a ``str`` (old callers that compare
or print statuses keep working) that also carries ``.code`` and ``.detail`` (new callers branch on
the Enum instead of parsing the first word back).
"""
from __future__ import annotations

from enum import Enum


class StatusCode(str, Enum):
    """Why a pair was, or was not, scored."""

    OK = "ok"  # scored
    CONSTANT = "constant"  # a variable takes one value: no direction, score 0.5
    TOO_FEW_POINTS = "too_few_points"  # fewer than min_points finite rows
    SCORE_NOT_FINITE = "score_not_finite"  # the scorer returned NaN or inf
    # set by the readers
    NON_NUMERIC = "non_numeric"
    EMPTY_FILE = "empty_file"
    UNEQUAL_LENGTHS = "unequal_lengths"
    MULTIVARIATE = "multivariate"
    TRUNCATED = "truncated"
    DUPLICATE_ID = "duplicate_id"
    BAD_PAIRMETA = "bad_pairmeta"
    UNREADABLE = "unreadable"

    # A str mix-in Enum formats as "StatusCode.OK" on Python 3.12+; the code is what people read.
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class PairStatus(str):
    """``code`` plus optional ``detail``; its text is ``"code"`` or ``"code (detail)"``."""

    code: StatusCode
    detail: str

    def __new__(cls, code: StatusCode | str, detail: str = "") -> "PairStatus":
        code = StatusCode(code)
        self = super().__new__(cls, f"{code.value} ({detail})" if detail else code.value)
        self.code, self.detail = code, detail
        return self

    def __getnewargs__(self):  # pickle and copy rebuild from the parts, not from the text
        return (self.code, self.detail)

    def __repr__(self) -> str:
        detail = f", {self.detail!r}" if self.detail else ""
        return f"PairStatus({self.code.value!r}{detail})"

    @classmethod
    def parse(cls, text: str) -> "PairStatus":
        """``"ok (dropped 3 rows)"`` -> ``PairStatus(StatusCode.OK, "dropped 3 rows")``; the text
        round-trips exactly. An unknown code or a detail outside parentheses is a ValueError."""
        if isinstance(text, PairStatus):
            return text
        code, sep, rest = str(text).partition(" ")
        if sep and not (rest.startswith("(") and rest.endswith(")") and len(rest) > 2):
            raise ValueError(f"status {text!r}: the detail must follow the code in parentheses")
        try:
            return cls(StatusCode(code), rest[1:-1] if sep else "")
        except ValueError:
            known = ", ".join(c.value for c in StatusCode)
            raise ValueError(f"status {text!r}: unknown code {code!r} (known: {known})") from None


OK = PairStatus(StatusCode.OK)


def status_code(status: str) -> str:
    """The machine-readable part of a status: ``"ok (dropped 3 rows)"`` -> ``"ok"``.

    Kept for callers written before :class:`PairStatus`; new code reads ``status.code``."""
    return status.code.value if isinstance(status, PairStatus) else str(status).split(" ", 1)[0]
