"""Rendering shared by every command: the two consoles, ``--json`` output, progress
(a spinner, or per-topic bars) and warnings. Results go to stdout, everything else to
stderr, so ``--json`` output is always one JSON document."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from connshift.cli.options import STATE

console = Console()
err_console = Console(stderr=True)


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One warning line on stderr (never on stdout: ``--json`` stays one JSON document)."""
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@contextmanager
def progress(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner showing the latest step; yields the ``report`` callback for the library."""
    if STATE.json or not err_console.is_terminal:

        def plain(msg: str) -> None:
            if not STATE.json:
                err_console.print(f"  {msg}", highlight=False)

        yield plain
        return
    with err_console.status(message) as status:

        def report(msg: str) -> None:
            err_console.print(f"  {msg}", highlight=False)
            status.update(msg)

        yield report


@contextmanager
def progress_bars(as_json: bool) -> Iterator[Callable[[dict[str, tuple[int, int]]], None] | None]:
    """Rich progress bars per topic, fed with {topic: (done, total)}."""
    if as_json or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(per_topic: dict[str, tuple[int, int]]) -> None:
            for topic, (done, total) in per_topic.items():
                if topic not in tasks:
                    tasks[topic] = bars.add_task(topic, total=total)
                bars.update(tasks[topic], completed=done, total=total)

        yield update
