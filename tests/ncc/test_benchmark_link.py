"""benchmarks/link.py end to end on tiny generated data (never on the real suites)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch

from ncc.formats import write_tuebingen

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("bench_link", ROOT / "benchmarks" / "link.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_link_benchmark_prints_and_writes_its_figures(tmp_path, capsys):
    import ncc
    from ncc.link import LinkModel
    from ncc.model import NCC, NCCConfig

    torch.manual_seed(0)
    config = NCCConfig(embed_dim=8, classifier_dim=8)
    ncc.save(LinkModel([NCC(config)]).eval(), tmp_path / "link.safetensors")
    ncc.save(NCC(config).eval(), tmp_path / "direction.safetensors")
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(5):
        x = rng.normal(size=60)
        pairs.append(np.c_[x, x ** 3 + 0.1 * rng.normal(size=60)])
    write_tuebingen(tmp_path / "suite", pairs, truths=[1] * 5)
    report = _load().main(["--link-model", str(tmp_path / "link.safetensors"), "--model",
                           str(tmp_path / "direction.safetensors"), "--n-pairs", "4", "--suite",
                           f"tiny={tmp_path / 'suite'}", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert "auc_no_link_vs_linked" in out and "| tiny | 5 |" in out
    s = report["synthetic"]
    assert set(s["mean_p_none"]) == {"causal", "causal+hidden confounder", "independent", "confounded"}
    assert 0 <= s["auc_no_link_vs_linked"] <= 1 and 0 <= s["three_way_accuracy"] <= 1
    assert report["suites"]["tiny"]["n_pairs"] == 5
    assert json.loads((tmp_path / "r.json").read_text())["suites"]["tiny"] == report["suites"]["tiny"]
