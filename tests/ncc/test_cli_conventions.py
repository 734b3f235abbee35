"""Conventions shared by the ncc commands: one error style, the same option names."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ncc.cli import app
from tests.ncc.helpers import one_line_error

runner = CliRunner()

COMMANDS = ["generate", "plot-pairs", "train", "score", "evaluate", "embed"]




@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_is_one_line(command):
    one_line_error(runner.invoke(app, [command, "--no-such-option", "1"]), "--no-such-option")


@pytest.mark.parametrize("args, fragments", [
    (["evaluate", "pairs", "--n-boot", "5"], ["--n-boot", "100"]),
    (["score", "pairs", "--min-points", "1"], ["--min-points", "2"]),
    (["generate", "--output", "x.npz", "--n-pairs", "many"], ["--n-pairs"]),
    (["score"], ["input"]),
])
def test_range_type_and_missing_errors_are_one_line(args, fragments):
    one_line_error(runner.invoke(app, args), *fragments)


@pytest.mark.parametrize("spelling", ["--output", "-o", "--out"])
def test_generate_and_plot_pairs_take_output_and_the_old_out(tmp_path, spelling):
    data = tmp_path / "p.npz"
    result = runner.invoke(app, ["generate", "--n-pairs", "3", "--n-points", "20", spelling, str(data)])
    assert result.exit_code == 0, result.output
    reference = tmp_path / "ref.npz"
    result = runner.invoke(app, ["generate", "--n-pairs", "3", "--n-points", "20", "--out", str(reference)])
    assert result.exit_code == 0, result.output
    assert data.read_bytes() == reference.read_bytes()
    result = runner.invoke(app, ["plot-pairs", str(data), spelling, str(tmp_path / "grid.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_quiet_silences_the_progress_bars(tmp_path):
    out = tmp_path / "pairs"
    gen = runner.invoke(app, ["generate", "--n-pairs", "12", "--n-points", "60", "--seed", "0", "--format",
                              "tuebingen", "--output", str(out), "--quiet"])
    assert gen.exit_code == 0, gen.output
    loud = runner.invoke(app, ["evaluate", str(out), "--baselines", "IGCI", "--n-boot", "100"])
    quiet = runner.invoke(app, ["evaluate", str(out), "--baselines", "IGCI", "--n-boot", "100", "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert "IGCI:" in loud.stderr and "IGCI:" not in quiet.stderr
    assert quiet.stdout == loud.stdout  # the same table


@pytest.mark.parametrize("command, option, bad, noun", [
    ("train", "--optimizer", "sgd", "optimizer"), ("train", "--lr-schedule", "step", "lr_schedule"),
    ("train", "--head", "both", "head"), ("generate", "--mechanism", "foo", "mechanism"),
    ("generate", "--cause", "beta", "cause"), ("generate", "--noise", "pink", "noise"),
    ("generate", "--format", "parquet", "format"),
])
def test_choices_are_enums_listed_in_help_and_refused_in_one_line(tmp_path, command, option, bad, noun):
    from ncc import choices

    enum = {"--optimizer": choices.Optimizer, "--lr-schedule": choices.LRSchedule, "--head": choices.Head,
            "--mechanism": choices.Mechanism, "--cause": choices.Cause, "--noise": choices.Noise,
            "--format": choices.ExportFormat}[option]
    values = [m.value for m in enum]
    import typer

    params = typer.main.get_command(app).commands[command].params
    declared = next(p for p in params if option in p.opts)
    assert declared.metavar == choices.metavar(enum)  # what --help lists
    out = ["-o", str(tmp_path / "m.safetensors")] if command == "train" else ["--output", str(tmp_path / "x.npz")]
    one_line_error(runner.invoke(app, [command, *out, option, bad]), f"unknown {noun} '{bad}'",
                    f"valid: {', '.join(values)}")


def test_quiet_silences_the_table_progress_bar(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    table = tmp_path / "t.csv"
    a = rng.normal(size=80)
    table.write_text("a,b,c\n" + "".join(f"{u},{u ** 3 + 0.1 * v},{v}\n" for u, v in zip(a, rng.normal(size=80))))
    loud = runner.invoke(app, ["score", str(table), "--all-pairs"])
    quiet = runner.invoke(app, ["score", str(table), "--all-pairs", "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert "scoring column pairs" in loud.stderr and "scoring column pairs" not in quiet.stderr
    assert quiet.stdout == loud.stdout
