"""Helpers for integration tests: write specs, run the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "connshift.cli.main"]


def run_cli(
    *args: str, timeout: float = 300, check: bool = False
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"connshift {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def run_json(*args: str, timeout: float = 300, check: bool = True) -> Any:
    """Run the CLI with --json and parse stdout (``check``: exit code 0 required)."""
    proc = run_cli(*args, "--json", timeout=timeout, check=check)
    return json.loads(proc.stdout)


def unique_prefix(tag: str) -> str:
    return f"it-{tag}-{uuid.uuid4().hex[:6]}."


def write_spec(
    path: Path,
    *,
    source: str,
    destination: str,
    include: list[str],
    prefix: str,
    state_dir: Path,
    name: str = "it",
) -> Path:
    includes = ", ".join(f"'{p}'" for p in include)
    path.write_text(
        "version: 1\n"
        f"name: {name}\n"
        f"source:\n  kafka:\n    bootstrap_servers: '{source}'\n"
        f"destination:\n  kafka:\n    bootstrap_servers: '{destination}'\n"
        f"topics:\n  include: [{includes}]\n  prefix: '{prefix}'\n"
        f"state_dir: '{state_dir}'\n"
    )
    return path
