"""``connshift acls diff|apply``: the ACLs of the migrated topics and groups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json
from connshift.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from connshift.app.acls import AclsResult


def acls(
    action: str = typer.Argument(..., help="diff | apply"),
    config: Path = ConfigOpt,
    principal_map: Path | None = typer.Option(
        None, "--principal-map", help="YAML: source principal -> destination principal."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="apply: show, change nothing."),
    as_json: bool = JsonOpt,
) -> None:
    """Compare (diff) or copy (apply) the ACLs of the migrated topics and groups.

    Exit 1 when a source ACL is not carried (a finding says why), and on diff when some
    are missing on the destination."""
    STATE.json = as_json
    from connshift.app import acls as acls_app

    m = open_migration(config)
    if action == "diff":
        result = acls_app.compare(m, principal_map)
    elif action == "apply":
        result = acls_app.apply(m, principal_map, dry_run=dry_run)
    else:
        raise UsageError(f"unknown acls action {action!r}", fix="use diff or apply")
    if as_json:
        emit_json(result.to_json())
    else:
        _render(result, applied=action == "apply" and not dry_run)
    if result.carried.not_carried or (action == "diff" and result.diff.missing):
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def _render(result: AclsResult, *, applied: bool) -> None:
    """One line per destination ACL (present / missing / created), then each finding with
    what, why and what to do, then the extra ACLs the destination holds on those
    resources, then a summary."""
    for a in result.diff.present:
        console.print(f"[green]present[/]   {a.describe()}", highlight=False)
    for a in result.diff.missing:
        verb = "created" if applied else "missing"
        console.print(f"[yellow]{verb}[/]   {a.describe()}", highlight=False)
    for f in result.findings:
        colour = "red" if not f.carried else "yellow"
        console.print(f"[{colour}]finding[/]   {f.id}: {f.what}", highlight=False)
        console.print(f"          why: {f.why}", highlight=False)
        console.print(f"          do:  {f.fix}", highlight=False)
    for a in result.diff.extra:
        console.print(f"[dim]dest-only[/] {a.describe()}", highlight=False)
    console.print(
        f"{len(result.source_relevant)} source ACL(s) cover the migrated topics and groups; "
        f"{len(result.diff.missing)} missing on the destination"
        + (" (now created)" if applied and result.diff.missing else "")
        + f"; {len(result.findings)} finding(s), {len(result.carried.not_carried)} not carried"
        + (
            f"; {len(result.diff.extra)} ACL(s) on those resources exist on the destination "
            "only (dest-only, never removed)"
            if result.diff.extra
            else ""
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(acls)
