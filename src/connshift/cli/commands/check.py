"""``connshift check``: validate the spec and reach every service it names;
``--permissions``: verify the configured principals hold what each command needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec, record
from connshift.cli.render import console, emit_json, progress
from connshift.errors import CheckFailed, ConnshiftError, ExitCode

#: how many kafka-acls lines the terminal shows (``--json`` has them all)
SHOWN_GRANTS = 20


def check(
    config: Path = ConfigOpt,
    as_json: bool = JsonOpt,
    permissions: bool = typer.Option(
        False,
        "--permissions",
        help="Also verify that the spec's principals hold the ACLs each command needs "
        "(DescribeAcls where allowed, harmless tries where not); each missing one is named "
        "with the kafka-acls line that grants it. Exit 1 when one is missing.",
    ),
) -> None:
    """Validate the spec and reach every Kafka cluster and Connect worker it names."""
    STATE.json = as_json
    from connshift.app.check import check_spec

    spec = load_spec(config)
    result = check_spec(config)
    data = result.to_json()
    perms = None
    if permissions and result.ok:
        from connshift.app.permissions import check_permissions

        with progress("verifying permissions") as report:
            perms = check_permissions(spec, report=None if as_json else report)
        data["permissions"] = perms.to_json()
        data["ok"] = result.ok and perms.ok
    record(spec, "check", data)
    if as_json:
        emit_json(data)
    else:
        table = Table(title=f"connshift check — {config}")
        for col in ("side", "service", "address", "status"):
            table.add_column(col, no_wrap=True)
        table.add_column("detail")
        for row in result.rows:
            style = "green" if row.ok else "red"
            status = "PASS" if row.ok else "FAIL"
            table.add_row(row.side, row.service, row.address, f"[{style}]{status}[/]", row.detail)
        console.print(table)
        if perms is not None:
            _print_permissions(data["permissions"])
    if not result.ok:
        first = next(r for r in result.rows if not r.ok)
        raise first.error or ConnshiftError(f"{first.side} {first.service} check failed")
    if perms is not None and not perms.ok:
        if as_json:  # the JSON above names every missing permission
            raise typer.Exit(int(ExitCode.CHECK_FAILED))
        first_row = perms.missing[0]
        more = len(perms.missing) - 1
        raise CheckFailed(
            f"the {first_row.side} principal lacks {first_row.operation} on "
            f"{first_row.resource.describe()}"
            + (f" (and {more} more permission(s))" if more > 0 else ""),
            why=f"needed by {', '.join(first_row.commands)}",
            fix="grant it with the kafka-acls line(s) shown (`--json`: every one)",
        )


def _resource(r: dict[str, Any]) -> str:
    if r["resource_type"] == "CLUSTER":
        return "cluster"
    kind = r["resource_type"].lower().replace("_", " ")
    return f"{kind} {r['resource']}" + ("*" if r["pattern_type"] == "PREFIXED" else "")


def _print_permissions(p: dict[str, Any]) -> None:
    for s in p["sides"]:
        line = f"{s['side']}: {s['principal'] or 'unknown principal'}, verified by {s['method']}"
        console.print(escape(line) + (f" ({escape(s['note'])})" if s["note"] else ""))
    # essential rows not granted, one line per (side, resource, status)
    lines: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    optional: dict[str, int] = {}
    for r in p["rows"]:
        if r["status"] == "GRANTED":
            continue
        if not r["essential"]:
            for c in r["commands"]:
                optional[c] = optional.get(c, 0) + 1
            continue
        lines.setdefault((r["status"], r["side"], _resource(r)), []).append(r)
    for (status, side, res), rows in list(lines.items())[:SHOWN_GRANTS]:
        style = "red" if status == "MISSING" else "yellow"
        ops = ", ".join(r["operation"] for r in rows)
        commands = ", ".join(dict.fromkeys(c for r in rows for c in r["commands"]))
        console.print(
            f"[{style}]{status}[/] {side} {escape(res)}: {ops} (needed by {escape(commands)}; "
            f"{escape(rows[0]['via'])})",
            soft_wrap=True,
        )
    if len(lines) > SHOWN_GRANTS:
        console.print(f"… and {len(lines) - SHOWN_GRANTS} more (`--json` lists them all)")
    if optional:
        shown = ", ".join(f"`{c}` ({n})" for c, n in optional.items())
        console.print(
            f"not granted, needed only by: {escape(shown)} — `--json` lists them", soft_wrap=True
        )
    granted = sum(1 for r in p["rows"] if r["status"] == "GRANTED")
    console.print(
        f"{granted} of {len(p['rows'])} permission(s) granted; {p['missing']} essential missing, "
        f"{p['unverified']} essential not verified"
    )
    grants = p["grants"]
    if grants:
        console.print("to grant what is missing (run as an administrator):")
        for line in grants[:SHOWN_GRANTS]:
            console.print("  " + escape(line), soft_wrap=True)
        if len(grants) > SHOWN_GRANTS:
            console.print(f"  … and {len(grants) - SHOWN_GRANTS} more (`--json` lists them all)")
    for note in p["notes"]:
        console.print(f"note: {escape(note)}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(check)
