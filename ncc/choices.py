"""The fixed choices of the ``ncc`` commands, as Enums: one definition per choice, typed in code,
listed in ``--help``, and refused in the project's own words (``unknown optimizer 'sgd'; valid: …``)."""
from __future__ import annotations

from enum import Enum
from typing import Callable

import typer

from ncc.train_config import HEADS
from synthetic.causes import CAUSES
from synthetic.io import EXPORT_FORMATS
from synthetic.mechanisms import MECHANISMS
from synthetic.noise import NOISES


def _choice(name: str, values: tuple[str, ...]) -> type[Enum]:
    return Enum(name, {v: v for v in values}, type=str)


Optimizer = _choice("Optimizer", ("adam", "rmsprop"))
LRSchedule = _choice("LRSchedule", ("constant", "cosine"))
Head = _choice("Head", HEADS)
Mechanism = _choice("Mechanism", (*MECHANISMS, "mix"))
Cause = _choice("Cause", (*CAUSES, "mix"))
Noise = _choice("Noise", (*NOISES, "mix"))
ExportFormat = _choice("ExportFormat", EXPORT_FORMATS)


def metavar(enum: type[Enum]) -> str:
    """``[a|b|c]``: the choices as --help shows them."""
    return "[" + "|".join(m.value for m in enum) + "]"


def parser(enum: type[Enum], noun: str) -> Callable[[str], str]:
    """A typer ``parser`` accepting the Enum's values only; it returns the plain value (downstream code and
    file metadata keep their strings) and refuses anything else with one line naming the choices."""
    def parse(text: str) -> str:
        try:
            return enum(str(text)).value
        except ValueError:
            valid = ", ".join(m.value for m in enum)
            raise typer.BadParameter(f"unknown {noun} {str(text)!r}; valid: {valid}") from None

    parse.__name__ = noun  # typer names the parameter type after the parser
    return parse


def option_kwargs(enum: type[Enum], noun: str) -> dict:
    """The typer.Option keywords of a choice."""
    return {"parser": parser(enum, noun), "metavar": metavar(enum)}
