"""Shared test configuration: tests under tests/integration are marked `integration`, and
tests marked `disruptive` run last."""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
    # tests that disturb the shared sandbox (restart it, reset its estate) run after the
    # rest, whatever their file names; the order among the rest is unchanged
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
