"""The ``connshift`` command: the typer app, its global options, the registry of command
modules (:mod:`connshift.cli.commands`), and :func:`run`, the one place where errors become
exit codes. Every error the library raises on purpose is printed as one line (what, why,
what to do) with its documented exit code; a traceback only with ``--debug``.
"""

from __future__ import annotations

import sys
from types import ModuleType

import typer

from connshift import __version__
from connshift.cli.commands import (
    acls,
    baseline,
    check,
    cost,
    cutover,
    decide,
    demo,
    groups,
    init,
    inventory,
    offsets,
    plan,
    probe,
    rehearse,
    report,
    review,
    sandbox,
    score,
    sync,
    validate,
)
from connshift.cli.options import STATE, close_migrations
from connshift.cli.render import console, emit_json, err_console
from connshift.errors import ConnshiftError, ExitCode

__all__ = ["COMMANDS", "STATE", "app", "main", "run"]

#: The command-line parser's own errors (bad option, unknown command, ...). Newer typer
#: vendors click (``typer._click``, not installing click) and raises ``TyperException``
#: subclasses; older typer raises click's ``ClickException``.
_ParserError: type[Exception]
if hasattr(typer, "TyperException"):
    _ParserError = typer.TyperException
else:  # pragma: no cover - typer that still depends on click
    import click

    _ParserError = click.exceptions.ClickException


app = typer.Typer(
    name="connshift",
    help=(
        "Move a Kafka Connect estate — connectors, topics, offsets, consumer groups — "
        "between Kafka clusters, and prove it. Exit codes: 0 ok, 1 a check failed, "
        "2 usage or config error, 3 a cluster or service could not be reached."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        console.print(f"connshift {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and librdkafka logs."),
) -> None:
    """connshift: an open, exact-offset Kafka Connect migration tool."""
    STATE.debug = debug
    # the command's migration context is closed as the command ends, however it ends
    ctx.call_on_close(close_migrations)
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        lib = logging.getLogger("connshift.librdkafka")
        lib.propagate = True


#: Every command module, in the order ``connshift --help`` lists its commands (typer lists
#: the plain commands first, then the groups: sandbox, baseline).
COMMANDS: tuple[ModuleType, ...] = (
    init,
    check,
    sandbox,
    demo,
    sync,
    offsets,
    groups,
    validate,
    acls,
    plan,
    cutover,  # cutover, rollback, status
    inventory,
    probe,
    review,
    score,
    baseline,
    rehearse,
    cost,
    decide,
    report,
)
for _command in COMMANDS:
    _command.register(app)


# ---------------------------------------------------------------------------- entry point


def _report_error(exc: ConnshiftError) -> int:
    if STATE.json:
        emit_json(exc.as_dict())
    err_console.print(f"[red]error:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
    return int(exc.exit_code)


def _report_parser_error(exc: Exception) -> int:
    # with no arguments, typer has already printed the help
    if type(exc).__name__ != "NoArgsIsHelpError" and hasattr(exc, "show"):
        ctx = getattr(exc, "ctx", None)
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if STATE.json:
            emit_json({"error": "UsageError", "what": message, "exit_code": int(ExitCode.USAGE)})
        err_console.print(f"[red]error:[/] {message}{where}", highlight=False, soft_wrap=True)
    return int(ExitCode.USAGE)


def _report_bug(exc: Exception) -> int:
    """A bug: one line unless --debug."""
    if STATE.debug:
        err_console.print_exception()
    else:
        err_console.print(
            f"[red]internal error:[/] {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)",
            highlight=False,
            soft_wrap=True,
        )
    return 4


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and map errors to exit codes — here only:
    a :class:`ConnshiftError` exits with its own code (2 usage/config, 3 unreachable, ...),
    a parser error 2, Ctrl-C or an abort 130, a bug 4; a command's ``typer.Exit(code)``
    (e.g. 1 when a check failed) passes through."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except ConnshiftError as exc:
        if STATE.debug:
            err_console.print_exception()
        sys.exit(_report_error(exc))
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except _ParserError as exc:
        sys.exit(_report_parser_error(exc))
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        sys.exit(_report_bug(exc))
    sys.exit(int(rv or 0))


if __name__ == "__main__":
    run()
