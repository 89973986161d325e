"""The evidence store: the latest result of every command the scorecard reads.

One directory, ``<state_dir>/evidence/``, one JSON file per kind of evidence
(``inventory.json``, ``probe-destination.json``, ``rehearsal-<connector>.json``, …),
each written atomically by :func:`connshift.io.artifacts.write_json_atomic`. A file is
the command's own JSON result plus an ``evidence`` envelope: when it was recorded, by
which connshift, for which spec. ``connshift score`` computes every row from these files
(and the cutover journal); nothing in a scorecard is typed in.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connshift.io.artifacts import write_json_atomic

_KIND = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


def evidence_dir(state_dir: str | Path) -> Path:
    """Where a spec's evidence lives."""
    return Path(state_dir) / "evidence"


def _file_name(kind: str) -> str:
    if not _KIND.fullmatch(kind):
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", kind)[:200] or "_"
        return f"{safe}.json"
    return f"{kind}.json"


@dataclass(frozen=True)
class Evidence:
    """One recorded result: its kind, its file and its data (with the envelope)."""

    kind: str
    path: Path
    data: dict[str, Any]

    @property
    def recorded_at(self) -> str | None:
        envelope = self.data.get("evidence")
        return envelope.get("recorded_at") if isinstance(envelope, dict) else None


class EvidenceStore:
    """Reads and writes the evidence of one spec's state directory."""

    def __init__(self, state_dir: str | Path, *, spec_name: str = "migration") -> None:
        self.root = evidence_dir(state_dir)
        self.spec_name = spec_name

    def path(self, kind: str) -> Path:
        return self.root / _file_name(kind)

    def record(self, kind: str, data: dict[str, Any], *, now: datetime | None = None) -> Path:
        """Write ``data`` as the latest evidence of ``kind``; returns the file."""
        from connshift import __version__

        stamped = dict(data)
        stamped["evidence"] = {
            "kind": kind,
            "recorded_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "spec": self.spec_name,
            "connshift": __version__,
        }
        return write_json_atomic(self.path(kind), stamped)

    def load(self, kind: str) -> Evidence | None:
        """The latest evidence of ``kind``, or None when there is none (or it is unreadable)."""
        path = self.path(kind)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        return Evidence(kind=kind, path=path, data=data)

    def all(self) -> dict[str, Evidence]:
        """Every piece of evidence recorded, by kind."""
        out: dict[str, Evidence] = {}
        if not self.root.is_dir():
            return out
        for path in sorted(self.root.glob("*.json")):
            found = self.load(path.stem)
            if found is not None:
                out[path.stem] = found
        return out


#: Receives the one-line warning when evidence could not be recorded.
Warn = Callable[[str], None]


def record_evidence(spec: Any, kind: str, data: dict[str, Any]) -> Path:
    """Record ``data`` as ``kind`` evidence in ``spec``'s state directory; raises
    :class:`OSError` when it cannot be written. Commands use :func:`try_record_evidence`."""
    return EvidenceStore(spec.state_dir, spec_name=spec.name).record(kind, data)


def _warn_on_stderr(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")
    sys.stderr.flush()


def try_record_evidence(
    spec: Any, kind: str, data: dict[str, Any], *, warn: Warn | None = None
) -> Path | None:
    """Record ``data`` as ``kind`` evidence: the one failure policy of every command.

    A state directory that cannot be written costs the evidence, never the command's
    result: the :class:`OSError` becomes one warning line passed to ``warn`` (the CLI
    prints it on stderr; default: ``warning: ...`` written to stderr), ``data`` is left
    untouched (so ``--json`` output is the same with or without the evidence), and None is
    returned instead of the file written.
    """
    try:
        return record_evidence(spec, kind, data)
    except OSError as exc:
        (warn or _warn_on_stderr)(f"could not record {kind} evidence in {spec.state_dir}: {exc}")
        return None
