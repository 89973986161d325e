"""``connshift report``: gather the evidence store, render it, write the file atomically.

The report is a rendering of the evidence, not evidence itself: nothing is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connshift.core.evidence import EvidenceSet
from connshift.core.report import EXTENSIONS, FORMATS, ReportMeta, render, summary
from connshift.core.spec import Spec
from connshift.errors import UsageError
from connshift.io.artifacts import write_text_atomic
from connshift.io.evidence import EvidenceStore

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class ReportResult:
    path: Path
    format: str
    kinds: list[str]
    summary: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.report-written/1",
            "path": str(self.path),
            "format": self.format,
            "evidence": self.kinds,
            "summary": self.summary,
        }


def default_output(fmt: str) -> Path:
    """``report.html`` (``report.json``, ``report.md``) in the current directory."""
    return Path(f"report.{EXTENSIONS[fmt]}")


def _no_userinfo(url: str) -> str:
    """A URL without ``user:password@`` (a header is no place for credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _side(redacted: dict[str, Any], side: str) -> tuple[str, str]:
    data = redacted.get(side) or {}
    kafka = (data.get("kafka") or {}).get("bootstrap_servers") or ""
    connect = (data.get("connect") or {}).get("url") or ""
    return str(kafka), _no_userinfo(str(connect))


def meta_for(spec: Spec, output: Path, config: Path, *, now: datetime | None = None) -> ReportMeta:
    """The header of ``spec``'s report written at ``output``: from the redacted spec only."""
    from connshift import __version__

    redacted = spec.redacted_dict()
    src_kafka, src_connect = _side(redacted, "source")
    dst_kafka, dst_connect = _side(redacted, "destination")
    report_dir = output.resolve().parent
    state = Path(spec.state_dir).resolve()
    try:
        state_href = Path(os.path.relpath(state, report_dir)).as_posix()
    except ValueError:  # another drive: no relative path exists
        state_href = state.as_uri()
    return ReportMeta(
        spec_name=spec.name,
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        version=__version__,
        source_kafka=src_kafka,
        source_connect=src_connect,
        destination_kafka=dst_kafka,
        destination_connect=dst_connect,
        state_href=state_href,
        config=str(config),
    )


def write_report(
    spec: Spec,
    *,
    config: Path,
    output: Path | None = None,
    fmt: str = "html",
    report: Reporter = lambda _m: None,
    now: datetime | None = None,
) -> ReportResult:
    """Render every piece of ``spec``'s evidence as one ``fmt`` document at ``output``."""
    if fmt not in FORMATS:
        raise UsageError(
            f"unknown report format {fmt!r}",
            why=f"connshift writes {', '.join(FORMATS)}",
            fix="pass --format html, --format json or --format md",
        )
    output = output if output is not None else default_output(fmt)
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    report(f"reading evidence in {store.root}")
    evidence = EvidenceSet.from_json({kind: ev.data for kind, ev in store.all().items()})
    meta = meta_for(spec, output, config, now=now)
    report(f"rendering {len(evidence.kinds())} evidence file(s) as {fmt}")
    text = render(evidence, meta, fmt)
    try:
        path = write_text_atomic(output, text, mode=0o644)
    except OSError as exc:
        raise UsageError(
            f"cannot write the report to {output}",
            why=exc.strerror or str(exc),
            fix="pass -o with a file path in a writable directory",
        ) from exc
    return ReportResult(
        path=path, format=fmt, kinds=sorted(evidence.kinds()), summary=summary(evidence, meta)
    )
