"""ncc/cli.py finds sub-commands of higher layers (vision) through the "ncc.commands" entry points."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

import ncc.cli as cli

ROOT = Path(__file__).resolve().parents[2]


class _Point:
    def __init__(self, name, load):
        self.name, self.load = name, load


def _fake_group(points):
    def entry_points(**kwargs):
        assert kwargs == {"group": cli.COMMAND_GROUP}
        return points
    return entry_points


def test_plugin_apps_loads_every_entry_point_of_the_group(monkeypatch):
    extra = typer.Typer()
    monkeypatch.setattr(importlib.metadata, "entry_points", _fake_group([_Point("extra", lambda: extra)]))
    assert cli._plugin_apps() == [("extra", extra)]


def test_a_broken_plugin_is_one_line_on_stderr_and_the_rest_still_load(monkeypatch, capsys):
    def broken():
        raise ImportError("no module named torchvision")

    good = typer.Typer()
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        _fake_group([_Point("bad", broken), _Point("good", lambda: good)]))
    assert cli._plugin_apps() == [("good", good)]
    err = capsys.readouterr().err
    assert err == "ncc: sub-command 'bad' not available (ImportError: no module named torchvision)\n"


def test_a_registered_plugin_becomes_a_sub_command(monkeypatch):
    extra = typer.Typer()

    @extra.command("hello")
    def hello() -> None:
        typer.echo("hi from the plugin")

    @extra.command("other")
    def other() -> None:  # two commands, so typer keeps "hello" as a named sub-command
        pass

    monkeypatch.setattr(importlib.metadata, "entry_points", _fake_group([_Point("extra", lambda: extra)]))
    app = typer.Typer()
    for name, sub_app in cli._plugin_apps():
        app.add_typer(sub_app, name=name)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["extra", "hello"])
    assert result.exit_code == 0 and result.output == "hi from the plugin\n"


def test_without_any_plugin_ncc_still_runs_its_own_commands():
    """An empty group (a checkout whose install predates the group): no vision command, no crash."""
    probe = ("import importlib.metadata as md\n"
             "md.entry_points = lambda **kw: []\n"
             "import sys\n"
             "from typer.testing import CliRunner\n"
             "from ncc.cli import app\n"
             "r = CliRunner().invoke(app, ['--help'])\n"
             "print(r.exit_code, 'generate' in r.output, 'vision' in r.output, 'vision' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "True", "False", "False"]
