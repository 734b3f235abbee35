"""Helpers shared by the ncc CLI tests."""
from __future__ import annotations

import csv


def one_line_error(result, *fragments: str) -> str:
    """A CLI failure in the project's style: exit 2, one ``Error: …`` line on stderr naming what is wrong."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "Usage:" not in result.output and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def read_csv_rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
