"""Reproducibility: one seed fixes every byte, whatever the threads or the chunking."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from synthetic import make_config, make_pairs
from synthetic.generator import CHUNK_POINTS, generate, iter_chunks

OPTIONS = dict(mechanism="mix", cause="mix", kinds="causal,independent,confounded",
               discretize_prob=0.2, quantize_prob=0.2, noise="mix")


def _digest(X, y) -> str:
    h = hashlib.sha256()
    for pair in (X if isinstance(X, list) else [X]):
        h.update(np.ascontiguousarray(pair).tobytes())
    h.update(np.asarray(y).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("n_points", [300, (20, 400)])
def test_same_seed_same_bytes(n_points):
    a = make_pairs(40, n_points=n_points, random_state=123, **OPTIONS)
    b = make_pairs(40, n_points=n_points, random_state=123, **OPTIONS)
    assert _digest(*a) == _digest(*b)


def test_different_seeds_differ():
    digests = {_digest(*make_pairs(10, n_points=100, random_state=s, **OPTIONS)) for s in range(5)}
    assert len(digests) == 5


def test_random_state_instance_advances():
    rs = np.random.RandomState(0)
    a = make_pairs(4, n_points=50, random_state=rs)
    b = make_pairs(4, n_points=50, random_state=rs)
    assert _digest(*a) != _digest(*b)
    c = make_pairs(4, n_points=50, random_state=np.random.RandomState(0))
    assert _digest(*a) == _digest(*c)


def test_thread_limits_do_not_change_output():
    with threadpool_limits(limits=1):
        one = _digest(*make_pairs(30, n_points=500, random_state=1, **OPTIONS))
    with threadpool_limits(limits=2):
        two = _digest(*make_pairs(30, n_points=500, random_state=1, **OPTIONS))
    assert one == two


_SCRIPT = ("import hashlib, numpy as np, synthetic\n"
           "X, y = synthetic.make_pairs(20, n_points=300, mechanism='mix', cause='mix', "
           "kinds='causal,confounded', random_state=5)\n"
           "print(hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest())\n")


def test_one_and_two_threads_in_fresh_processes():
    digests = []
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
               "MKL_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                             text=True, check=True)
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1] and len(digests[0]) == 64


def test_chunks_concatenate_to_make_pairs():
    n_points = 1000
    n_pairs = 3 * CHUNK_POINTS // n_points + 5  # spans several chunks
    config = make_config(n_points=n_points, mechanism="mix")
    chunks = list(iter_chunks(n_pairs, config, random_state=9))
    assert len(chunks) >= 3
    assert chunks[0].start == 0 and chunks[-1].stop == n_pairs
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:]))
    X, y = make_pairs(n_pairs, n_points=n_points, mechanism="mix", random_state=9)
    np.testing.assert_array_equal(np.concatenate([c.X for c in chunks]), X)
    np.testing.assert_array_equal(np.concatenate([c.y for c in chunks]), y)
    seen = []
    X2, y2, _ = generate(n_pairs, config, 9, progress=seen.append)
    assert sum(seen) == n_pairs and len(seen) == len(chunks)
    np.testing.assert_array_equal(X2, X)


def test_option_changes_leave_other_choices_alone():
    # The per-pair plan is drawn whatever the options, so e.g. turning discretisation on
    # keeps each pair's mechanism and orientation.
    _, y1, i1 = make_pairs(50, n_points=10, mechanism="mix", random_state=2, return_info=True)
    _, y2, i2 = make_pairs(50, n_points=10, mechanism="mix", random_state=2,
                           discretize_prob=0.5, return_info=True)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(i1["mechanism"], i2["mechanism"])
