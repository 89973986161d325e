"""The ``connshift`` command line: exit codes, one-line errors, --json, help, init/check.

Runs the CLI in-process through :func:`connshift.cli.main.run` (fast), plus a few
end-to-end runs of the installed console script to check what a user really sees
on stderr. Nothing here starts or reaches a real service: every sandbox home is a
temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

import connshift
from connshift.app.config import load_spec
from connshift.cli import main as cli
from connshift.errors import ExitCode

VENV_BIN = Path(sys.executable).parent
CONNSHIFT = VENV_BIN / "connshift"

#: Every command of the design (DESIGN.md) that ``--help`` must list.
DESIGN_COMMANDS = [
    "init",
    "check",
    "sandbox",
    "demo",
    "inventory",
    "probe",
    "review",
    "plan",
    "sync",
    "offsets",
    "groups",
    "validate",
    "acls",
    "cutover",
    "rollback",
    "status",
    "score",
    "rehearse",
    "baseline",
    "cost",
    "decide",
    "report",
]

MINIMAL = """\
version: 1
source:
  kafka:
    bootstrap_servers: 127.0.0.1:1
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:2
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fresh CLI state, wide help output, and no default paths outside ``tmp_path``."""
    monkeypatch.setattr(cli.STATE, "debug", False)
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("CONNSHIFT_SANDBOX_HOME", str(tmp_path / "default-sandbox-home"))
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns ``(exit code, stdout, stderr)``."""
    with pytest.raises(SystemExit) as info:
        cli.run(list(argv))
    out, err = capsys.readouterr()
    code = info.value.code
    assert isinstance(code, int), f"exit code should be an int, got {code!r}"
    return code, out, err


def one_line(err: str) -> str:
    """The single stderr line of an error (fails if there is more than one)."""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got {lines!r}"
    assert "Traceback" not in err
    return lines[0]


def script_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CONNSHIFT_SANDBOX_HOME=str(tmp_path / "default-sandbox-home"),
        CONNSHIFT_CACHE=str(tmp_path / "cache"),
        COLUMNS="40",  # narrow: a long error line must still not be wrapped
    )
    env.pop("TERMINAL_WIDTH", None)
    env.update(extra)
    return env


# ---------------------------------------------------------------------------- version / help


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--version")
    assert code == 0
    assert out.strip() == f"connshift {connshift.__version__}"
    assert connshift.__version__ == version("connshift")
    assert err == ""


def test_help_lists_every_command_of_the_design(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--help")
    assert code == 0
    listed = {
        line.strip("│ ").split()[0]
        for line in out.splitlines()
        if line.startswith("│ ") and line.strip("│ ")
    }
    missing = [c for c in DESIGN_COMMANDS if c not in listed]
    assert not missing, f"--help does not list {missing}"


def test_sandbox_help_lists_its_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "sandbox", "--help")
    assert code == 0
    for sub in ("up", "status", "down", "fetch", "seed"):
        assert f"│ {sub} " in out, sub


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["init", "--no-such-option"], "--no-such-option"), (["nosuchcmd"], "nosuchcmd")],
)
def test_parser_errors_are_usage_errors_not_internal_ones(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, _, err = invoke(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "internal error" not in err


def test_no_arguments_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys)
    assert code == 2
    assert "Usage:" in out
    assert "│ init " in out
    assert "internal error" not in err


# ---------------------------------------------------------------------------- init / check


def test_init_writes_a_template_that_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "specs" / "mine.yaml"
    code, out, err = invoke(capsys, "init", "-o", str(target))
    assert code == 0, err
    assert target.is_file()
    assert str(target) in out
    spec = load_spec(target)
    assert spec.source.kafka.bootstrap_servers
    assert spec.destination.kafka.bootstrap_servers


def test_init_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "connshift.yaml"
    assert invoke(capsys, "init", "-o", str(target))[0] == 0
    target.write_text("# my edits\n" + target.read_text())
    edited = target.read_text()

    code, _, err = invoke(capsys, "init", "-o", str(target))
    assert code == 2
    line = one_line(err)
    assert "already exists" in line
    assert "--force" in line
    assert target.read_text() == edited

    code, _, err = invoke(capsys, "init", "-o", str(target), "--force")
    assert code == 0, err
    assert not target.read_text().startswith("# my edits")


def test_init_json_names_the_written_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "c.yaml"
    code, out, _ = invoke(capsys, "init", "-o", str(target), "--json")
    assert code == 0
    assert json.loads(out) == {"schema": "connshift.init/1", "written": str(target)}


def test_check_on_a_missing_spec_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = invoke(capsys, "check", "-c", str(missing))
    assert code == 2
    line = one_line(err)
    assert "spec file not found" in line
    assert str(missing) in line
    assert out == ""


def test_check_names_the_dotted_unknown_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(MINIMAL.replace("127.0.0.1:1\n", "127.0.0.1:1\n    colour: red\n", 1))
    code, _, err = invoke(capsys, "check", "-c", str(spec))
    assert code == 2
    line = one_line(err)
    assert "source.kafka.colour" in line
    assert "unknown key" in line


def test_check_json_error_is_a_json_object_with_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(MINIMAL + "colour: red\n")
    code, out, err = invoke(capsys, "check", "-c", str(spec), "--json")
    assert code == 2
    doc = json.loads(out)
    assert isinstance(doc, dict)
    assert doc["exit_code"] == 2
    assert doc["error"] == "ConfigError"
    assert doc["context"]["key"] == "colour"
    assert "colour" in one_line(err)


# ---------------------------------------------------------------------------- sandbox


def test_sandbox_up_rejects_a_bad_port_override(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    code, _, err = invoke(capsys, "sandbox", "up", "--port", "bogus=1", "--home", str(home))
    assert code == 2
    line = one_line(err)
    assert "bogus=1" in line
    assert "source-kafka" in line  # names the valid port names
    assert not home.exists()  # refused before touching anything


def test_sandbox_status_on_an_empty_home_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = invoke(capsys, "sandbox", "status", "--home", str(tmp_path))
    assert code == ExitCode.CHECK_FAILED == 1
    assert "stopped" in out


def test_sandbox_status_json_reports_unhealthy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = invoke(capsys, "sandbox", "status", "--home", str(tmp_path), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["healthy"] is False
    assert doc["home"] == str(tmp_path.resolve())
    assert doc["services"], "status should list the sandbox's services"
    assert all(s["running"] is False and s["pid"] is None for s in doc["services"])


def test_sandbox_down_on_an_empty_home_says_nothing_was_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = invoke(capsys, "sandbox", "down", "--home", str(tmp_path))
    assert code == 0, err
    assert "nothing was running" in out
    assert tmp_path.is_dir()


def test_sandbox_down_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = invoke(capsys, "sandbox", "down", "--home", str(tmp_path), "--json")
    assert code == 0
    assert json.loads(out) == {
        "schema": "connshift.sandbox-down/1",
        "stopped": [],
        "purged": False,
    }


# ---------------------------------------------------------------------------- internal errors


def test_internal_error_exits_4_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import connshift.app.config

    def boom(*_args: object, **_kwargs: object) -> Path:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(connshift.app.config, "write_template", boom)
    code, _, err = invoke(capsys, "init", "-o", str(tmp_path / "x.yaml"))
    assert code == 4
    line = one_line(err)
    assert "internal error" in line
    assert "RuntimeError: kaboom" in line
    assert "--debug" in line


BOOM_SCRIPT = textwrap.dedent(
    """
    import sys
    import connshift.app.config as config

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    config.write_template = boom
    from connshift.cli.main import run
    run(sys.argv[1:])
    """
)


def test_internal_error_with_debug_shows_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", BOOM_SCRIPT, "--debug", "init", "-o", str(tmp_path / "x.yaml")],
        capture_output=True,
        text=True,
        env=script_env(tmp_path, COLUMNS="120"),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" in proc.stderr
    assert "kaboom" in proc.stderr
    assert "boom" in proc.stderr  # the frame that raised


# ---------------------------------------------------------------------------- end to end


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["check", "-c", "missing-spec-file.yaml"], 2, "spec file not found"),
        (["score", "--bogus"], 2, "No such option: --bogus"),
        (["sandbox", "up", "--port", "source-kafka=99999"], 2, "1 to 65535"),
    ],
)
def test_console_script_prints_exactly_one_stderr_line(
    tmp_path: Path, argv: list[str], code: int, needle: str
) -> None:
    proc = subprocess.run(
        [str(CONNSHIFT), *argv],
        capture_output=True,
        text=True,
        env=script_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    line = one_line(proc.stderr)
    assert line.startswith("error: ")
    assert needle in line
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["validate", "--bogus"], "No such option: --bogus"),
        (["score", "extra"], "unexpected extra argument"),
    ],
)
def test_a_bad_flag_or_argument_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = invoke(capsys, *argv)
    assert code == ExitCode.USAGE
    line = one_line(err)
    assert line.startswith("error: ") and says in line
    assert f"connshift {argv[0]} --help" in line or "--help" in line
    assert out == ""


def test_score_exits_1_while_a_row_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    """No evidence recorded: every estate row is 0, the scorecard blocks (no I/O needed)."""
    assert invoke(capsys, "init", "-o", "spec.yaml")[0] == 0
    code, out, _ = invoke(capsys, "score", "-c", "spec.yaml", "--json")
    assert code == 1
    data = json.loads(out)
    assert not data["ok"] and len(data["blockers"]) >= 12
