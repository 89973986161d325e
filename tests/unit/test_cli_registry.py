"""The command registry of :mod:`connshift.cli.main`: every module of
:mod:`connshift.cli.commands` is registered, ``connshift --help`` lists the commands in their
documented order, and ``python -m connshift.cli.main`` (what the integration tests run) works.
"""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import connshift
from connshift.cli import commands
from connshift.cli import main as cli

#: ``connshift --help`` order: the plain commands, then the groups (as typer lists them).
HELP_ORDER = [
    "init",
    "check",
    "demo",
    "sync",
    "offsets",
    "groups",
    "validate",
    "acls",
    "plan",
    "cutover",
    "rollback",
    "status",
    "inventory",
    "probe",
    "review",
    "score",
    "rehearse",
    "cost",
    "decide",
    "report",
    "sandbox",
    "baseline",
]


def test_every_command_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    registered = {m.__name__.rsplit(".", 1)[-1] for m in cli.COMMANDS}
    assert registered == modules
    assert len(cli.COMMANDS) == len(modules)  # none twice


def test_help_lists_the_commands_in_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli.STATE, "json", False)
    with pytest.raises(SystemExit) as info:
        cli.run(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    commands_box = out.split("Commands", 1)[1]
    listed = re.findall(r"^\W+([a-z]+)\s{2,}\S", commands_box, flags=re.MULTILINE)
    assert listed == HELP_ORDER


def test_command_modules_do_not_import_main() -> None:
    """``python -m connshift.cli.main`` runs main as ``__main__``: a command module importing
    ``connshift.cli.main`` would get a second app and a second state."""
    for path in Path(commands.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "connshift.cli.main", path.name
                names = {a.name for a in node.names}
                assert not (node.module == "connshift.cli" and "main" in names), path.name


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "connshift.cli.main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"connshift {connshift.__version__}"
