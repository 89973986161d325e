"""Atomic writes: a reader sees the old file or the new one, never a half-written one."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from connshift.io import artifacts


def test_write_text_atomic_writes_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "out.txt"
    assert artifacts.write_text_atomic(target, "héllo\n") == target
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_write_text_atomic_replaces_existing_content(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old and much longer content\n")
    artifacts.write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_text_atomic_sets_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    artifacts.write_text_atomic(target, "x", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    artifacts.write_text_atomic(target, "y", mode=0o644)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_failing_rename_keeps_the_old_content(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "state.json"
    target.write_text('{"old": true}\n')
    calls: list[tuple[str, str]] = []

    def failing_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        artifacts.write_json_atomic(target, {"new": True})
    monkeypatch.undo()

    assert calls and calls[0][1] == str(target)  # it did try to rename over the target
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # temp file removed


def test_a_failing_write_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        artifacts.write_text_atomic(target, "bad \ud800 surrogate")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    data = {"b": [1, 2, {"c": None}], "a": "ü", "path": tmp_path}
    artifacts.write_json_atomic(target, data)
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert list(json.loads(text)) == ["b", "a", "path"]  # key order kept
    assert artifacts.read_json(target) == {**data, "path": str(tmp_path)}


def test_read_json_of_a_broken_file_raises_value_error(tmp_path: Path) -> None:
    target = tmp_path / "broken.json"
    target.write_text('{"half": ')
    with pytest.raises(ValueError):
        artifacts.read_json(target)
