"""``ParameterError``: a bad setting that knows which setting it is.

Configs (``NCCConfig``, ``TrainConfig``) and the device resolver raise it with the field name and
the rule apart from the message, so a caller with other names for the same settings (the
estimator's ``n_members`` is ``TrainConfig.ensemble``) can restate it in its own terms without
parsing the text.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional


class ParameterError(ValueError):
    """``field`` broke ``rule`` (e.g. "must be a positive integer") with ``value``; ``str()`` is the
    message (default ``"{prefix}{field} {rule}, got {value!r}"``)."""

    def __init__(self, field: str, value: Any, rule: str, *, prefix: str = "", message: Optional[str] = None):
        self.field, self.value, self.rule = field, value, rule
        super().__init__(message if message is not None else f"{prefix}{field} {rule}, got {value!r}")

    def restated(self, owner: str, name: str, value: Any) -> "ParameterError":
        """The same problem in the caller's terms: ``Owner(name=value): name rule``."""
        return ParameterError(name, value, self.rule, message=f"{owner}({name}={value!r}): {name} {self.rule}")


def finite_float(value: Any) -> Optional[float]:
    """``value`` as a float when it is a finite real number (not a bool or a string), else None, so
    a check never fails with a TypeError of its own."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)
