"""What every command shares: the CLI state (``--debug``, ``--json``), the common typer
options, and the two steps nearly every command takes — load the spec, record evidence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connshift.app.context import Migration

import typer


class _State:
    debug = False
    json = False


#: Set by the global callback (``--debug``) and by each command (``--json``); read by
#: :mod:`connshift.cli.render` and by ``run()`` when it reports an error.
STATE = _State()

ConfigOpt = typer.Option(
    Path("connshift.yaml"), "-c", "--config", help="Migration spec (YAML).", show_default=True
)
JsonOpt = typer.Option(False, "--json", help="Machine-readable output on stdout.")
HomeOpt = typer.Option(
    None,
    "--home",
    help="Sandbox data and state directory (default: $CONNSHIFT_SANDBOX_HOME, or a per-user dir).",
)


def load_spec(config: Path) -> Any:
    """The validated migration spec at ``config``."""
    from connshift.app.config import load_spec as load

    return load(config)


_OPEN: list[Migration] = []


def open_migration(config: Path) -> Migration:
    """The command's migration context (one per command; closed as the command ends)."""
    from connshift.app.context import Migration
    from connshift.cli.render import warn

    m = Migration(load_spec(config), warn=warn)
    _OPEN.append(m)
    return m


def close_migrations() -> None:
    """Close every migration context the command opened (the CLI calls it on exit)."""
    while _OPEN:
        _OPEN.pop().close()


def record(spec: Any, kind: str, data: dict[str, Any]) -> None:
    """Keep ``data`` as the latest ``kind`` evidence for the scorecard; a state directory
    that cannot be written costs the evidence, not the command's result (one warning line
    on stderr: :func:`connshift.io.evidence.try_record_evidence`)."""
    from connshift.cli.render import warn
    from connshift.io.evidence import try_record_evidence

    try_record_evidence(spec, kind, data, warn=warn)


def open_sandbox(home: Path | None) -> Any:
    """The sandbox at ``home`` (None: the default home)."""
    from connshift.app.sandbox import Sandbox

    return Sandbox(home)
