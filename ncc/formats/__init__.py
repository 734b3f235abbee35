"""Readers and writers for cause-effect pair files (numpy only: no torch here), one module per layout.

Supported layouts (see ``shared/data/README.md``):

* ``cepc``       -- ChaLearn cause-effect pairs CSV used by CDT: ``SampleID,A,B`` with the
  values of A and B space-separated inside each field; optional targets CSV
  ``SampleID,Target`` (+1: A->B, -1: B->A, 0: no link).
* ``tuebingen``  -- Tübingen / Mooij folder: ``pairNNNN.txt`` (whitespace-separated columns,
  no header) and optional ``pairmeta.txt``
  (``pair cause_first cause_last effect_first effect_last weight``, 1-based columns).
* ``anls``       -- AN/LS folder of Tagasovska et al.: ``pair_N.txt`` (CSV, header, index
  column) and optional ``pairs_gt.txt`` (line N = truth of pair_N).
* ``two-column`` -- one text/CSV file, whitespace, comma, semicolon or tab separated,
  optional header.

Readers are tolerant: a broken pair comes back as a :class:`PairRecord` whose ``status``
names the problem, and every other pair is read as usual. Ground truth is opt-in
(``with_truth=True``) so that scoring can never look at it.

Modules: ``records`` (PairRecord, FormatError), ``sniff`` (table parsing and separator sniffing),
``cepc``, ``tuebingen``, ``anls``, ``two_column`` (one reader and one writer each) and ``detect``
(format names, detection, :func:`read_pairs`). The CEPC and Tübingen writers are the generator's own
(:mod:`synthetic.pair_files`), so ``ncc generate`` and ``ncc score`` share one writer per layout.
"""
from ncc.formats.anls import read_anls, write_anls
from ncc.formats.cepc import MAX_ID_CHARS, MAX_LINE_CHARS, find_cepc_targets, read_cepc, read_cepc_targets, write_cepc
from ncc.formats.detect import FORMATS, detect_format, normalize_format, read_pairs
from ncc.formats.records import FormatError, PairRecord
from ncc.formats.sniff import _MISSING, _to_float
from ncc.formats.status import PairStatus, StatusCode, status_code
from ncc.formats.tuebingen import MAX_WEIGHT, read_tuebingen, write_tuebingen
from ncc.formats.two_column import read_two_column, write_two_column

__all__ = [
    "FORMATS", "FormatError", "PairRecord", "PairStatus", "StatusCode", "status_code", "normalize_format",
    "detect_format", "read_pairs",
    "read_cepc", "read_cepc_targets", "write_cepc", "find_cepc_targets", "read_tuebingen", "write_tuebingen",
    "read_anls", "write_anls", "read_two_column", "write_two_column", "MAX_LINE_CHARS", "MAX_ID_CHARS",
    "MAX_WEIGHT", "_MISSING", "_to_float",
]
