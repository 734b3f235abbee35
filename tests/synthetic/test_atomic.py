"""The one atomic writer: permissions follow the umask, and a failure leaves nothing behind."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from synthetic._atomic import atomic_write, atomic_write_text


@pytest.fixture
def umask():
    def set_mask(mask):
        old = os.umask(mask)
        restore.append(old)
    restore: list[int] = []
    yield set_mask
    for old in reversed(restore):
        os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_files_get_the_umask_permissions(tmp_path, umask, mask):
    umask(mask)
    atomic_write_text(tmp_path / "a.txt", "hello")
    assert _mode(tmp_path / "a.txt") == 0o666 & ~mask
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_a_failed_write_leaves_no_file(tmp_path):
    def broken(fh):
        fh.write("half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "b.txt", broken)
    assert list(tmp_path.iterdir()) == []


def test_every_writer_of_generate_and_score_uses_the_umask(tmp_path, umask):
    """synthetic.save / export_cepc / export_tuebingen and ncc.formats writers: 0644 under 022."""
    import synthetic
    from ncc.formats import write_anls, write_cepc, write_tuebingen, write_two_column
    from synthetic.io import export_cepc, export_tuebingen

    umask(0o022)
    X, y = synthetic.make_pairs(4, n_points=20, random_state=0)
    config = synthetic.make_config(n_points=20)
    synthetic.save(tmp_path / "p.npz", X, y, config=config, random_state=0)
    export_cepc(tmp_path / "c", X, y, config=config, random_state=0)
    export_tuebingen(tmp_path / "t", X, y, config=config, random_state=0)
    pairs = [np.asarray(p, dtype=float) for p in X]
    write_cepc(tmp_path / "w_pairs.csv", ["a", "b", "c", "d"], pairs, tmp_path / "w_targets.csv", truths=[1, 0, 1, 0])
    write_tuebingen(tmp_path / "wt", pairs, [1, 0, 1, 0])
    write_anls(tmp_path / "wa", pairs, [1, 0, 1, 0])
    write_two_column(tmp_path / "two.csv", pairs[0])
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 20
    assert {_mode(p) for p in files} == {0o644}, {str(p): oct(_mode(p)) for p in files if _mode(p) != 0o644}
