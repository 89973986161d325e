"""Render docs/faults.md from the rows the fault tests left in build/faults/ (one JSON file
per fault that passed; `make faults` runs `make test-faults` first). Never edit the page by
hand: rerun."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "build" / "faults"
PAGE = ROOT / "docs" / "faults.md"
COLUMNS = (
    ("phase", "during"),
    ("fault", "fault"),
    ("engine", "engine"),
    ("outcome", "what connshift did"),
    ("exit_code", "exit"),
    ("retries", "retries"),
    ("seconds", "time (s)"),
    ("records", "records"),
    ("recorded_at", "run at (UTC)"),
)


def render(rows: list[dict[str, object]]) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = [
        "# Faults survived",
        "",
        f"> **Generated** by `scripts/faults.py` on {stamp} from the fault tests' own runs "
        "(`tests/integration/test_faults.py`, `make faults`) — do not edit by hand.",
        "",
        "Each row is a test that passed on the sandbox: the fault was made for real (a broker "
        "killed with SIGKILL and restarted, or frozen with SIGSTOP and thawed) while the "
        "command ran, and the row was written only after every assertion held — for a "
        "follower: still running, caught up on its own, `validate` PASS with exact offsets. "
        "*time*: for a follower, from the producer's last write until the destination held "
        "every record; for a rerun, how long the rerun took; for a command stopped by the "
        "fault, how long it took to stop.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in sorted(rows, key=lambda r: (str(r["phase"]), str(r["fault"]), str(r["engine"]))):
        out.append("| " + " | ".join(str(row.get(key, "")) for key, _ in COLUMNS) + " |")
    return "\n".join(out) + "\n"


def main() -> int:
    files = sorted(ROWS.glob("*.json"))
    if not files:
        print(f"no fault rows under {ROWS}: run `make test-faults` first", file=sys.stderr)
        return 1
    rows = [json.loads(f.read_text()) for f in files]
    PAGE.write_text(render(rows))
    print(f"{PAGE} ({len(rows)} faults)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
