"""Synthetic cause-effect pairs for training and testing the NCC.

Main entry point: :func:`make_pairs`.  Labels: 1 = column 0 causes column 1,
0 = column 1 causes column 0, -1 = no causal link (independent or confounded pairs,
only when ``kinds`` asks for them).  See :mod:`synthetic.generator`.
"""
from synthetic.causes import CAUSES
from synthetic.config import KINDS, PairConfig, make_config
from synthetic.generator import generate, iter_chunks, make_pairs
from synthetic.io import export_cepc, export_tuebingen, load, save
from synthetic.mechanisms import MECHANISMS
from synthetic.noise import NOISES

__all__ = ["make_pairs", "generate", "iter_chunks", "make_config", "PairConfig",
           "save", "load", "export_cepc", "export_tuebingen",
           "MECHANISMS", "CAUSES", "NOISES", "KINDS"]
