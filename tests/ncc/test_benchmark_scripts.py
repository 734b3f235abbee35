"""The benchmark scripts run end to end on tiny generated suites (never on the real data)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from ncc.formats import read_pairs, write_anls, write_tuebingen

ROOT = Path(__file__).resolve().parents[2]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _suite(k=6, n=80, seed=0):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(k):
        x = rng.uniform(0, 1, n)
        pairs.append(np.c_[x, x**3 + 0.01 * rng.normal(size=n)])
    return pairs, [1] * k  # every cause first: the benchmark must randomise the order


def test_randomise_orientation_flips_truth_in_step(tmp_path):
    acc = _load("accuracy")
    pairs, truths = _suite(k=40)
    write_tuebingen(tmp_path, pairs, truths)
    recs = read_pairs(tmp_path, with_truth=True)
    out, n_flipped = acc.randomise_orientation(recs, seed=0, suite="X")
    assert 5 < n_flipped < 35
    for before, after in zip(recs, out):
        if after.truth == 0:
            np.testing.assert_array_equal(after.data, before.data[:, ::-1])
        else:
            np.testing.assert_array_equal(after.data, before.data)
    again, _ = acc.randomise_orientation(recs, seed=0, suite="X")
    assert [r.truth for r in again] == [r.truth for r in out]


def _baselines_run(tmp_path, capsys, suites: str, baselines: str, n_boot: int = 100):
    """accuracy.py --no-ncc on the suites already written under tmp_path/data: (stdout, JSON report)."""
    out = tmp_path / "r.json"
    rc = _load("accuracy").main([str(tmp_path / "data"), "--no-ncc", "--suites", suites, "--baselines", baselines,
                                 "--n-boot", str(n_boot), "--json", str(out)])
    assert rc == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def test_accuracy_script_baselines_only(tmp_path, capsys):
    pairs, truths = _suite()
    write_tuebingen(tmp_path / "data" / "SIM", pairs, truths)
    write_anls(tmp_path / "data" / "AN", pairs, truths)
    text, report = _baselines_run(tmp_path, capsys, "SIM,AN", "IGCI,RECI")
    assert "| SIM |" in text and "| AN |" in text and "**mean**" in text
    assert report["methods"] == ["IGCI", "RECI"]
    assert report["results"]["SIM"]["methods"]["IGCI"]["accuracy"] >= 0.8  # easy monotone pairs


def test_markdown_spread_over_models():
    acc = _load("accuracy")
    res = {s: {"methods": {f"NCC[{i}]": {"accuracy": a, "weighted": False} for i, a in enumerate(accs, 1)}}
           for s, accs in {"A": (0.8, 0.7, 0.9), "B": (0.6, 0.6, 0.6)}.items()}
    table = acc.markdown(res, ["NCC[1]", "NCC[2]", "NCC[3]"])
    assert "0.80 ± 0.10" in table and "0.60 ± 0.00" in table and "**0.70 ± 0.05**" in table


def test_config_flops_match_torch_counter():
    import torch

    from ncc.model import NCC, NCCConfig

    sc = _load("scoring")
    torch.manual_seed(0)
    cfg = NCCConfig(embed_dim=16, classifier_dim=12, classifier_layers=2)
    net = NCC(cfg).eval()
    pair = np.random.default_rng(0).normal(size=(50, 2))
    assert sc.config_flops_per_pair(cfg, 50) == sc.counted_flops_per_pair(net, pair)


def test_accuracy_script_with_several_models(tmp_path, capsys):
    import torch

    import ncc
    from ncc.model import NCC, NCCConfig

    acc = _load("accuracy")
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(ncc.save(NCC(NCCConfig(embed_dim=8, classifier_dim=8)).eval(), tmp_path / f"m{seed}.safetensors"))
    pairs, truths = _suite()
    write_tuebingen(tmp_path / "data" / "SIM", pairs, truths)
    rc = acc.main([str(tmp_path / "data"), "--suites", "SIM", "--baselines", "none", "--n-boot", "100",
                   "--threads", "1", *[a for m in models for a in ("--model", str(m))]])
    assert rc == 0
    text = capsys.readouterr().out
    assert "NCC[1]" in text and "NCC[2]" in text and "NCC mean ± sd" in text


def test_accuracy_script_reports_tuebingen_weighted_and_apart(tmp_path, capsys):
    pairs, truths = _suite(k=8)
    write_tuebingen(tmp_path / "data" / "tuebingen", pairs, truths, weights=[0.5, 0.5, 1, 1, 1, 1, 0.25, 0.25])
    write_tuebingen(tmp_path / "data" / "SIM", pairs, truths)
    text, report = _baselines_run(tmp_path, capsys, "SIM,tuebingen", "IGCI", n_boot=50)
    assert "tuebingen (8 pairs" in text and "| IGCI |" in text and "95% CI" in text
    assert len(report["results"]["tuebingen"]["pair_ids"]) == 8
    assert report["results"]["tuebingen"]["methods"]["IGCI"]["weighted"]
    assert list(report["summary"]["IGCI"]) and "| tuebingen |" not in text.split("Simulated suites")[1]


def test_shuffled_labels_ignore_the_pairs():
    controls = _load("controls")

    class Fixed:
        def batch(self, member, step, batch_size):
            return [np.zeros((5, 2))] * batch_size, np.ones(batch_size, dtype=np.int64)

    src = controls.ShuffledLabels(Fixed(), seed=3)
    labels = np.concatenate([src.batch(0, s, 64)[1] for s in range(20)])
    assert set(np.unique(labels)) == {0, 1} and abs(labels.mean() - 0.5) < 0.06
    np.testing.assert_array_equal(src.batch(0, 4, 64)[1], src.batch(0, 4, 64)[1])  # seeded


def test_config_flops_count_copula_and_statistics_inputs():
    from ncc.model import NCCConfig

    sc = _load("scoring")
    plain = sc.config_flops_per_pair(NCCConfig(embed_dim=16, classifier_dim=12), 50)
    hybrid = sc.config_flops_per_pair(NCCConfig(embed_dim=16, classifier_dim=12, copula=True, statistics=True), 50)
    from ncc.statistics import N_STATISTICS

    # φ's first layer reads 4 inputs instead of 2 (per point, both orientations), ψ 2·S more.
    assert hybrid - plain == 2 * (50 * 2 * 2 * 16 + 2 * 2 * N_STATISTICS * 12)


def test_marginals_describe_ties_and_tails():
    mg = _load("marginals")
    x = np.repeat(np.arange(10.0), 10)  # 10 distinct values of 100: tie fraction 0.9
    y = np.random.default_rng(0).normal(size=100)
    d = mg.describe([np.c_[x, y]] * 3)
    assert d["cause"]["tie_quantiles_10_25_50_75_90"][2] == 0.9 and d["cause"]["share_ties_above_0.5"] == 1.0
    assert d["effect"]["share_ties_above_0.5"] == 0.0
    assert abs(d["cause"]["median_kurtosis"] - 1.78) < 0.01  # a discrete uniform on 10 values


def test_baselines_script_times_and_compares(tmp_path, capsys):
    pairs, truths = _suite(k=8, n=60)
    write_tuebingen(tmp_path / "data" / "SIM", pairs, truths)
    out = tmp_path / "b.json"
    rc = _load("baselines").main([str(tmp_path / "data"), "--suites", "SIM", "--sizes", "40", "--timing-pairs", "2",
                                  "--repeats", "1", "--n-boot", "100", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "ANM-HSIC speed-up (before / now)" in text and "| SIM |" in text
    report = json.loads(out.read_text())
    assert set(report["seconds_per_pair"]) >= {"IGCI", "CDS", "QCCD", "ANM-HSIC", "ANM-HSIC (fit_points=200)"}
    sim = report["accuracy"]["SIM"]
    assert sim["_n_pairs"] == 8 and sim["_anm_agreement"] == 1.0  # 60 points < 200: the same fit
    assert sim["ANM-HSIC"] == sim["ANM-HSIC (fit_points=200)"]


def test_quickstart_script_reads_the_readme_command():
    qs = _load("quickstart")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = qs.quickstart_command(readme)
    assert command.startswith("ncc generate") and "--overwrite" in command and "ncc evaluate" in command
    code = qs.block_after(readme, "<!-- sklearn-example -->")
    assert "synthetic.make_pairs" in code and "verbose=True" in code
    compile(code, "README sklearn example", "exec")
