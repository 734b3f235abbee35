"""Training: loss, data streams, determinism, exact resume, learning, and the `ncc train` CLI."""
from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import ncc
import ncc.train
from ncc.cli import app
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.train import (
    ArrayPairs,
    CheckpointError,
    SyntheticPairs,
    TrainConfig,
    TrainingInterrupted,
    evaluate,
    symmetric_loss,
    targets_from_labels,
    train_ncc,
)
from tests.ncc.helpers import one_line_error

TINY = NCCConfig(embed_dim=8, classifier_dim=8)
SMALL_GEN = {"n_points": (20, 60)}
runner = CliRunner()


def _run(steps=6, seed=0, ensemble=1, checkpoint=None, resume=False, callback=None, **cfg):
    config = TrainConfig(steps=steps, batch_size=4, seed=seed, ensemble=ensemble, n_heldout=cfg.pop("n_heldout", 8),
                         eval_every=cfg.pop("eval_every", 3), checkpoint_every=cfg.pop("checkpoint_every", 2), **cfg)
    data = SyntheticPairs(SMALL_GEN, seed=seed, n_heldout=config.n_heldout)
    return train_ncc(TINY, config, data, checkpoint=checkpoint, resume=resume, progress=False, callback=callback)


def _states(model) -> list[dict]:
    return [m.state_dict() for m in model.members]


def _assert_same_weights(a, b) -> None:
    for sa, sb in zip(_states(a), _states(b), strict=True):
        assert sa.keys() == sb.keys()
        for key in sa:
            assert torch.equal(sa[key], sb[key]), key


def _interrupt_at(member: int, step: int):
    def callback(m, s, loss):
        if (m, s) == (member, step):
            raise KeyboardInterrupt
    return callback


# -- loss and targets -------------------------------------------------------------------------

def test_targets_from_labels():
    assert targets_from_labels(np.array([1, 0, -1])).tolist() == [1.0, 0.0, 0.5]


def test_symmetric_loss_covers_both_orientations():
    logits = torch.tensor([[2.0, -1.0], [0.3, 0.7]])
    target = torch.tensor([1.0, 0.5])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = (bce(logits[:, 0], target, reduction="sum") + bce(logits[:, 1], 1 - target, reduction="sum")) / 4
    assert symmetric_loss(logits, target).item() == pytest.approx(expected.item())
    # The reversed pairs (swapped logits, opposite targets) have the same loss.
    assert symmetric_loss(logits.flip(-1), 1 - target).item() == pytest.approx(expected.item())


def test_train_config_validates():
    for bad in (dict(steps=0), dict(optimizer="sgd"), dict(lr=-1.0), dict(lr_schedule="step"), dict(seed=-1),
                dict(ensemble=0), dict(n_heldout=-1)):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_cosine_schedule():
    cfg = TrainConfig(steps=10, lr=1.0, lr_schedule="cosine")
    assert ncc.train._lr_at(0, cfg) == 1.0 and ncc.train._lr_at(5, cfg) == pytest.approx(0.5)
    assert ncc.train._lr_at(3, TrainConfig(lr=0.1)) == 0.1


# -- data streams ------------------------------------------------------------------------------

def test_synthetic_batches_are_seeded_by_member_and_step():
    data = SyntheticPairs(SMALL_GEN, seed=3, n_heldout=5)
    X1, y1 = data.batch(0, 7, 4)
    X2, y2 = SyntheticPairs(SMALL_GEN, seed=3, n_heldout=5).batch(0, 7, 4)
    assert all(np.array_equal(a, b) for a, b in zip(X1, X2)) and np.array_equal(y1, y2)
    others = [data.batch(0, 8, 4)[0], data.batch(1, 7, 4)[0], SyntheticPairs(SMALL_GEN, seed=4).batch(0, 7, 4)[0]]
    for X in others:
        assert not any(len(a) == len(b) and np.array_equal(a, b) for a in X for b in X1)
    held, _ = data.heldout()
    assert len(held) == 5 and not any(len(a) == len(b) and np.array_equal(a, b) for a in held for b in X1)


def test_array_pairs_hold_out_and_cycle_through_epochs():
    X = np.arange(20 * 5 * 2, dtype=np.float32).reshape(20, 5, 2)
    y = np.r_[np.ones(10), np.zeros(10)].astype(int)
    data = ArrayPairs(X, y, seed=1, n_heldout=4)
    held = set(map(int, X[data.heldout_idx][:, 0, 0]))
    seen = [int(p[0, 0]) for step in range(4) for p in data.batch(0, step, 4)[0]]  # one epoch: 16 pairs
    assert len(held) == 4 and sorted(seen) == sorted(set(map(int, X[:, 0, 0])) - held)
    again = [int(p[0, 0]) for p in ArrayPairs(X, y, seed=1, n_heldout=4).batch(0, 2, 4)[0]]
    assert again == seen[8:12]  # any step's batch is known without replaying the run
    with pytest.raises(ValueError, match="labels"):
        ArrayPairs(X, np.full(20, 2))
    with pytest.raises(ValueError, match="no training pairs"):
        ArrayPairs(X, y, n_heldout=20)


# -- determinism and exact resume --------------------------------------------------------------

def test_seeded_training_is_deterministic():
    a, b, c = _run(seed=5), _run(seed=5), _run(seed=6)
    _assert_same_weights(a.model, b.model)
    assert not torch.equal(a.model.head.weight, c.model.head.weight)
    assert a.metadata["heldout"] == b.metadata["heldout"]


def test_resume_is_exact(tmp_path):
    straight = _run(steps=8)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(TrainingInterrupted) as info:
        _run(steps=8, checkpoint=ckpt, callback=_interrupt_at(0, 5))
    assert info.value.step == 5 and info.value.checkpoint == ckpt and ckpt.exists()
    resumed = _run(steps=8, checkpoint=ckpt, resume=True)
    _assert_same_weights(straight.model, resumed.model)
    assert resumed.metadata["heldout"] == straight.metadata["heldout"]
    assert [h["step"] for h in resumed.metadata["history"]] == [3, 6, 8]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic writes left nothing


def test_resume_is_exact_for_an_ensemble(tmp_path):
    straight = _run(steps=4, ensemble=2)
    assert isinstance(straight.model, NCCEnsemble) and len(straight.model.members) == 2
    assert not torch.equal(straight.model.members[0].head.weight, straight.model.members[1].head.weight)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(TrainingInterrupted):
        _run(steps=4, ensemble=2, checkpoint=ckpt, callback=_interrupt_at(1, 3))
    resumed = _run(steps=4, ensemble=2, checkpoint=ckpt, resume=True)
    _assert_same_weights(straight.model, resumed.model)
    assert len(resumed.metadata["members"]) == 2


def test_ctrl_c_saves_a_checkpoint_between_steps(tmp_path):
    ckpt = tmp_path / "run.ckpt"

    def press_ctrl_c(member, step, loss):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # handled as a flag: the run stops after this step

    with pytest.raises(TrainingInterrupted) as info:
        _run(steps=8, checkpoint=ckpt, callback=press_ctrl_c)
    assert info.value.step == 3
    state = torch.load(ckpt, weights_only=True)
    assert (state["member"], state["step"]) == (0, 3)
    _assert_same_weights(_run(steps=8).model, _run(steps=8, checkpoint=ckpt, resume=True).model)


def test_resume_refuses_other_runs_and_bad_files(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(CheckpointError, match="no checkpoint"):
        _run(checkpoint=ckpt, resume=True)
    with pytest.raises(TrainingInterrupted):
        _run(steps=6, checkpoint=ckpt, callback=_interrupt_at(0, 2))
    with pytest.raises(CheckpointError, match="different run.*steps"):
        _run(steps=7, checkpoint=ckpt, resume=True)
    with pytest.raises(CheckpointError, match="different run.*seed"):
        _run(steps=6, seed=1, checkpoint=ckpt, resume=True)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read"):
        _run(checkpoint=ckpt, resume=True)


# -- it learns ---------------------------------------------------------------------------------

def test_short_training_on_spline_pairs_learns():
    """A few hundred steps on the paper's spline pairs: held-out accuracy clearly above chance.

    Small and fast: 32 units, 300 points per pair and no dropout (dropout slows such short runs;
    seeds 0, 1, 2 reached 0.84, 0.88, 0.82).
    """
    config = TrainConfig(steps=300, batch_size=32, lr=3e-3, seed=0, n_heldout=400, eval_every=300)
    data = SyntheticPairs({"mechanism": "spline", "n_points": 300}, seed=0, n_heldout=400)
    result = train_ncc(NCCConfig(embed_dim=32, classifier_dim=32, dropout=0.0), config, data, progress=False)
    assert result.metadata["heldout"]["accuracy"] > 0.75
    X, y = data.heldout()
    assert evaluate(result.model, X, y)["accuracy"] == result.metadata["heldout"]["accuracy"]


def test_no_link_pairs_train_towards_one_half():
    config = TrainConfig(steps=3, batch_size=6, n_heldout=12, eval_every=3)
    data = SyntheticPairs({"n_points": 30, "kinds": "causal,independent"}, seed=0, n_heldout=12)
    result = train_ncc(TINY, config, data, progress=False)
    _, y = data.heldout()
    assert (y == -1).any() and result.metadata["heldout"]["n_pairs"] == 12


# -- the CLI -----------------------------------------------------------------------------------

TINY_CLI = ["--steps", "6", "--batch-size", "4", "--n-points", "20:50", "--heldout", "10", "--eval-every", "3",
            "--checkpoint-every", "2", "--embed-dim", "8", "--classifier-dim", "8", "--threads", "1",
            "--no-progress", "--device", "cpu"]




def test_cli_train_writes_model_and_metadata(tmp_path):
    out = tmp_path / "m.safetensors"
    result = runner.invoke(app, ["train", *TINY_CLI, "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["seed"] == 3 and meta["ncc_version"] == ncc.__version__ and meta["steps"] == 6
    assert meta["model_config"]["embed_dim"] == 8 and meta["train_config"]["batch_size"] == 4
    assert meta["data"]["generator"]["n_points"] == [20, 50] and meta["wall_time_s"] > 0
    assert 0 <= meta["heldout"]["accuracy"] <= 1 and meta["heldout"]["n_pairs"] == 10
    assert meta["command"] and meta["options"]["steps"] == 6
    model = ncc.load(out)
    assert isinstance(model, NCC) and model.metadata == meta
    assert 0 <= ncc.causal_score(np.arange(30.0), np.arange(30.0) ** 2, model) <= 1
    assert "held-out accuracy" in result.stdout
    assert not out.with_suffix(".ckpt").exists()  # deleted once the model is saved


def test_cli_resume_continues_exactly(tmp_path, monkeypatch):
    straight = tmp_path / "straight.safetensors"
    assert runner.invoke(app, ["train", *TINY_CLI, "-o", str(straight)]).exit_code == 0

    out = tmp_path / "m.safetensors"
    real_train = ncc.train.train_ncc
    monkeypatch.setattr(ncc.train, "train_ncc",
                        lambda *a, **k: real_train(*a, **{**k, "callback": _interrupt_at(0, 4)}))
    first = runner.invoke(app, ["train", *TINY_CLI, "-o", str(out)])
    assert first.exit_code == 130 and "--resume" in first.stderr and not out.exists()
    monkeypatch.setattr(ncc.train, "train_ncc", real_train)
    second = runner.invoke(app, ["train", *TINY_CLI, "-o", str(out), "--resume", "--keep-checkpoint"])
    assert second.exit_code == 0, second.output
    _assert_same_weights(ncc.load(straight), ncc.load(out))
    assert json.loads(out.with_suffix(".json").read_text())["resumed"] is True

    changed = runner.invoke(app, ["train", *TINY_CLI, "-o", str(out), "--resume", "--lr", "0.5"])
    one_line_error(changed, "different run", "lr")


def test_cli_trains_an_ensemble_from_a_generated_file(tmp_path):
    import synthetic
    from synthetic.io import save

    X, y = synthetic.make_pairs(40, n_points=30, random_state=0)
    data = save(tmp_path / "pairs.npz", X, y, config=synthetic.make_config(n_points=30), random_state=0)
    out = tmp_path / "e.safetensors"
    args = ["train", "--data", str(data), "--steps", "4", "--batch-size", "4", "--ensemble", "2", "--embed-dim", "8",
            "--classifier-dim", "8", "--no-progress", "--threads", "1", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    model = ncc.load(out)
    assert isinstance(model, NCCEnsemble) and len(model.members) == 2
    meta = model.metadata
    assert meta["data"]["source"] == "file" and meta["data"]["n_heldout"] == 4 and meta["data"]["n_train"] == 36


@pytest.mark.parametrize("args, fragments", [
    (["--mechanism", "bogus"], ["mechanism", "bogus", "valid"]),
    (["--n-points", "5:2"], ["n_points"]),
    (["--mechanism-weights", "spline"], ["--mechanism-weights"]),
    (["--gen", "no_such_option=1"], ["unknown generator option", "no_such_option"]),
    (["--steps", "0"], ["--steps"]),
    (["--optimizer", "sgd"], ["optimizer", "sgd"]),
    (["--dropout", "1.5"], ["--dropout"]),
    (["--embed-dim", "0"], ["--embed-dim"]),
    (["--threads", "0"], ["--threads"]),
    (["--data", "missing.npz"], ["missing.npz"]),
    (["--data", "x.npz", "--mechanism", "nn"], ["--data", "mechanism"]),
    (["--device", "tpu"], ["device", "tpu"]),
    (["--resume"], ["--resume", "no checkpoint"]),
])
def test_cli_bad_input_is_aone_line_error(tmp_path, args, fragments):
    result = runner.invoke(app, ["train", "-o", str(tmp_path / "m.safetensors"), *args])
    one_line_error(result, *fragments)


def test_cli_output_folder_is_refused(tmp_path):
    one_line_error(runner.invoke(app, ["train", "-o", str(tmp_path)]), "folder")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cli_cuda_without_gpu_is_refused(tmp_path):
    one_line_error(runner.invoke(app, ["train", "--device", "cuda", "-o", str(tmp_path / "m.safetensors")]), "CUDA")


def test_cli_help_defaults_match_the_configs():
    import re
    from typing import get_type_hints

    from ncc.cli_train import train

    hints = get_type_hints(train, include_extras=True)
    from ncc.train import DEFAULT_ARCH

    defaults = {**TrainConfig().to_dict(), **NCCConfig().to_dict(), **DEFAULT_ARCH}  # the CLI's recipe
    checked = 0
    for name, hint in hints.items():
        info = next((m for m in getattr(hint, "__metadata__", ()) if hasattr(m, "help")), None)
        match = re.search(r"\(default: ([^)]+)\)", (info.help or "") if info else "")
        if match and name in defaults:
            assert match.group(1) == str(defaults[name]) or float(match.group(1)) == float(defaults[name]), name
            checked += 1
    assert checked >= 10


# -- paths that would lose files (issue 11, cases 1-3) ------------------------------------------

def _tiny_data(tmp_path):
    import synthetic
    from synthetic.io import save

    X, y = synthetic.make_pairs(20, n_points=30, random_state=0)
    return save(tmp_path / "tr.npz", X, y, config=synthetic.make_config(n_points=30), random_state=0)


DATA_CLI = ["--steps", "2", "--batch-size", "4", "--embed-dim", "8", "--classifier-dim", "8", "--threads", "1",
            "--no-progress", "--device", "cpu"]


@pytest.mark.parametrize("case", ["output_is_default_checkpoint", "checkpoint_is_output", "checkpoint_is_metadata",
                                  "checkpoint_is_data", "output_is_data"])
def test_cli_refuses_two_roles_on_one_file(tmp_path, case):
    data = _tiny_data(tmp_path)
    out = tmp_path / "m.safetensors"
    side = tmp_path / "m.json"
    side.write_text("{}")
    args = {"output_is_default_checkpoint": ["-o", str(tmp_path / "model.ckpt")],
            "checkpoint_is_output": ["-o", str(out), "--checkpoint", str(out)],
            "checkpoint_is_metadata": ["-o", str(out), "--checkpoint", str(side)],
            "checkpoint_is_data": ["-o", str(out), "--checkpoint", str(data)],
            "output_is_data": ["-o", str(data)]}[case]
    before = data.read_bytes()
    result = runner.invoke(app, ["train", "--data", str(data), *DATA_CLI, *args])
    one_line_error(result, "same file")
    assert data.read_bytes() == before and side.read_text() == "{}"  # nothing lost, nothing trained


def test_cli_refuses_a_default_checkpoint_through_a_symlink(tmp_path):
    data = _tiny_data(tmp_path)
    (tmp_path / "m.ckpt").symlink_to(data)
    result = runner.invoke(app, ["train", "--data", str(data), *DATA_CLI, "-o", str(tmp_path / "m.safetensors")])
    one_line_error(result, "same file")
    assert data.exists()


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_cli_unwritable_checkpoint_is_refused_before_training(tmp_path, where, monkeypatch):
    calls = []
    monkeypatch.setattr(ncc.train, "train_ncc", lambda *a, **k: calls.append(1))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    checkpoint = {"folder": tmp_path, "under_a_file": blocker / "sub" / "c.ckpt"}[where]
    result = runner.invoke(app, ["train", *TINY_CLI, "-o", str(tmp_path / "m.safetensors"), "--checkpoint",
                                 str(checkpoint)])
    one_line_error(result, "--checkpoint", str(checkpoint))
    assert not calls


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_read_only_output_folder_is_refused_before_training(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = runner.invoke(app, ["train", *TINY_CLI, "-o", str(locked / "sub" / "m.safetensors")])
    finally:
        locked.chmod(0o755)
    one_line_error(result, "--output", "not writable")


def test_cli_late_save_failure_rescues_the_model(tmp_path, monkeypatch):
    import ncc.serialization

    out = tmp_path / "m.safetensors"
    real_save = ncc.serialization.save_model

    def failing_save(model, path, metadata=None):
        if os.fspath(path) == os.fspath(out):
            raise PermissionError(13, "Permission denied")
        return real_save(model, path, metadata)

    monkeypatch.setattr(ncc.serialization, "save_model", failing_save)
    result = runner.invoke(app, ["train", *TINY_CLI, "-o", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "saved to" in line
    rescued = line.split("saved to ")[1].split(" ")[0]
    try:
        assert isinstance(ncc.load(rescued), NCC)
        assert out.with_suffix(".ckpt").exists()  # kept: the model did not reach its place
    finally:
        for p in (rescued, rescued.replace(".safetensors", ".json")):
            if os.path.exists(p):
                os.unlink(p)


def test_checkpoint_write_failure_falls_back_and_says_where(tmp_path, monkeypatch, capsys):
    ckpt = tmp_path / "c.ckpt"
    real_write = ncc.train._write_checkpoint

    def failing_write(path, state):
        if path == ckpt:
            raise OSError(28, "No space left on device")
        real_write(path, state)

    monkeypatch.setattr(ncc.train, "_write_checkpoint", failing_write)
    result = _run(checkpoint=ckpt)
    try:
        assert result.checkpoint != ckpt and result.checkpoint.exists()
        assert str(result.checkpoint) in capsys.readouterr().err
    finally:
        result.checkpoint.unlink(missing_ok=True)


def test_cli_existing_checkpoint_needs_resume_or_overwrite(tmp_path, monkeypatch):
    out = tmp_path / "m.safetensors"
    real_train = ncc.train.train_ncc
    monkeypatch.setattr(ncc.train, "train_ncc",
                        lambda *a, **k: real_train(*a, **{**k, "callback": _interrupt_at(0, 4)}))
    assert runner.invoke(app, ["train", *TINY_CLI, "-o", str(out)]).exit_code == 130
    monkeypatch.setattr(ncc.train, "train_ncc", real_train)
    ckpt = out.with_suffix(".ckpt")
    before = ckpt.read_bytes()
    one_line_error(runner.invoke(app, ["train", *TINY_CLI, "-o", str(out)]), str(ckpt), "--resume", "--overwrite")
    assert ckpt.read_bytes() == before
    one_line_error(runner.invoke(app, ["train", *TINY_CLI, "-o", str(out), "--resume", "--overwrite"]),
                    "--resume", "--overwrite")
    assert runner.invoke(app, ["train", *TINY_CLI, "-o", str(out), "--overwrite"]).exit_code == 0


def test_cli_unknown_optimizer_message_names_the_option_once(tmp_path):
    result = runner.invoke(app, ["train", "-o", str(tmp_path / "m.safetensors"), "--optimizer", "sgd"])
    one_line_error(result, "unknown optimizer 'sgd'")
    assert "--unknown" not in result.stderr


def test_generator_options_drop_default_weights_for_a_single_choice():
    import synthetic
    from ncc.train import DEFAULT_GENERATOR, generator_options

    assert generator_options() == DEFAULT_GENERATOR
    paper = generator_options({"mechanism": "spline", "cause": "gmm", "noise": "gaussian"})
    assert "mechanism_weights" not in paper and "cause_weights" not in paper and "noise_weights" not in paper
    synthetic.make_config(**paper)  # valid: no weights left over a single choice
    kept = generator_options({"cause": "mix", "quantize_prob": 0.0})
    assert kept["cause_weights"] == DEFAULT_GENERATOR["cause_weights"] and kept["quantize_prob"] == 0.0
