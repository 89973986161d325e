"""The evidence store: latest result per kind, an envelope, unreadable files ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connshift.io.evidence import EvidenceStore


def test_record_then_load_keeps_data_and_stamps_an_envelope(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, spec_name="shop")
    when = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    path = store.record("inventory", {"schema": "connshift.inventory/1", "topics": []}, now=when)
    assert path == tmp_path / "evidence" / "inventory.json"
    found = store.load("inventory")
    assert found is not None
    assert found.data["topics"] == []
    assert found.data["evidence"]["spec"] == "shop"
    assert found.recorded_at == "2026-11-26T07:00:00+00:00"


def test_a_new_record_replaces_the_old_one(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    store.record("validate", {"ok": False})
    store.record("validate", {"ok": True})
    found = store.load("validate")
    assert found is not None and found.data["ok"] is True


def test_missing_and_corrupt_evidence_read_as_none(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    assert store.load("probe-destination") is None
    store.root.mkdir(parents=True)
    (store.root / "probe-destination.json").write_text("{not json")
    (store.root / "plan.json").write_text("[1, 2]")
    assert store.load("probe-destination") is None
    assert store.load("plan") is None
    assert store.all() == {}


def test_kinds_with_odd_characters_stay_inside_the_directory(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    path = store.record("rehearsal-../../etc/x y", {"ok": True})
    assert path.parent == store.root
    assert set(store.all()) == {path.stem}
