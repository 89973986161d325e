"""Unit tests of connshift.core.versions: metadata.version table, fallback, API names."""

from __future__ import annotations

import pytest

from connshift.core.versions import (
    LATEST_PRODUCTION_LEVEL,
    METADATA_VERSION_FEATURE,
    BrokerVersion,
    VersionBasis,
    api_name,
    infer_kafka_version,
    metadata_version,
)

# ApiVersions answers seen from real brokers (Produce, Fetch, ListOffsets, Metadata, ApiVersions).
KAFKA_3_9_2_KEYS = {0: (0, 11), 1: (0, 17), 2: (0, 9), 3: (0, 12), 18: (0, 4)}
KAFKA_4_4_0_KEYS = {0: (0, 13), 1: (4, 18), 2: (1, 11), 3: (0, 13), 18: (0, 5)}


def mv(level: int) -> dict[str, int]:
    return {METADATA_VERSION_FEATURE: level}


@pytest.mark.parametrize(
    ("level", "name", "release"),
    [
        (1, "3.0-IV1", "3.0"),
        (7, "3.3-IV3", "3.3"),
        (8, "3.4-IV0", "3.4"),
        (19, "3.7-IV4", "3.7"),
        (20, "3.8-IV0", "3.8"),
        (21, "3.9-IV0", "3.9"),
        (22, "4.0-IV0", "4.0"),
        (25, "4.0-IV3", "4.0"),
        (27, "4.1-IV1", "4.1"),
        (29, "4.2-IV1", "4.2"),
        (30, "4.3-IV0", "4.3"),
        (31, "4.4-IV0", "4.4"),
        (32, "4.4-IV1", "4.4"),
        (33, "4.4-IV2", "4.4"),
    ],
)
def test_metadata_version_level_gives_release(level: int, name: str, release: str) -> None:
    version = infer_kafka_version({}, mv(level))
    assert version == BrokerVersion(release, name, "metadata.version", version.detail)
    assert version.basis == VersionBasis.METADATA_VERSION
    assert f"level {level}" in version.detail


def test_metadata_version_wins_over_api_versions() -> None:
    # A 4.4 binary whose cluster is still finalized at 3.9-IV0 (rolling upgrade not finalized).
    version = infer_kafka_version(KAFKA_4_4_0_KEYS, mv(21))
    assert (version.release, version.metadata_version) == ("3.9", "3.9-IV0")


def test_real_broker_answers() -> None:
    assert str(infer_kafka_version(KAFKA_3_9_2_KEYS, mv(21))) == "3.9 (metadata.version 3.9-IV0)"
    assert infer_kafka_version(KAFKA_4_4_0_KEYS, mv(33)).release == "4.4"


def test_table_is_contiguous_and_names_match_releases() -> None:
    levels = []
    level = 1
    while (entry := metadata_version(level)) is not None:
        assert entry.level == level
        assert entry.name.startswith(entry.release + "-IV")
        levels.append(entry)
        level += 1
    assert len(levels) >= 33
    assert metadata_version(0) is None
    names = [entry.name for entry in levels]
    assert len(set(names)) == len(names)
    assert [entry.level for entry in levels] == sorted(entry.level for entry in levels)
    latest = metadata_version(LATEST_PRODUCTION_LEVEL)
    assert latest is not None and latest.name == "4.4-IV2" and latest.production
    assert all(not entry.production for entry in levels if entry.level > LATEST_PRODUCTION_LEVEL)
    assert all(entry.production for entry in levels if entry.level <= LATEST_PRODUCTION_LEVEL)


def test_unstable_level_says_so() -> None:
    version = infer_kafka_version({}, mv(34))
    assert (version.release, version.metadata_version) == ("4.5", "4.5-IV0")
    assert "unstable" in version.detail


def test_level_newer_than_table_is_a_lower_bound() -> None:
    version = infer_kafka_version(KAFKA_4_4_0_KEYS, mv(500))
    assert version.release == ">= 4.5"
    assert version.metadata_version is None
    assert version.basis == "metadata.version"
    assert "500" in version.detail


@pytest.mark.parametrize(
    ("api_keys", "release"),
    [
        (KAFKA_3_9_2_KEYS, ">= 3.9"),
        (KAFKA_4_4_0_KEYS, ">= 4.2"),  # ListOffsets v11 first served in 4.2
        ({1: (0, 16), 2: (0, 8)}, ">= 3.7"),
        ({1: (0, 13), 2: (0, 7)}, ">= 3.1"),
        ({1: (0, 11), 2: (0, 5), 18: (0, 3)}, ">= 2.4"),
        ({1: (0, 11), 2: (0, 5), 18: (0, 2)}, ">= 2.3"),
        ({1: (0, 4)}, ">= 0.11.0"),
        ({1: (0, 2)}, ">= 0.10.0"),
        ({2: (0, 6)}, ">= 2.8"),
    ],
)
def test_api_versions_fallback(api_keys: dict[int, tuple[int, int]], release: str) -> None:
    version = infer_kafka_version(api_keys, {})
    assert version.release == release
    assert version.basis == VersionBasis.API_VERSIONS
    assert version.metadata_version is None
    assert "first served in Kafka" in version.detail


def test_fallback_compares_releases_numerically() -> None:
    # "0.11.0" sorts after "0.10.1" only numerically; "2.10" would sort before "2.9" as text.
    assert infer_kafka_version({1: (0, 4), 2: (0, 1)}, {}).release == ">= 0.11.0"


def test_non_kraft_level_falls_back_to_api_versions() -> None:
    version = infer_kafka_version(KAFKA_3_9_2_KEYS, mv(0))
    assert (version.release, version.basis) == (">= 3.9", "api-versions")


@pytest.mark.parametrize("api_keys", [{}, {0: (0, 3), 18: (0, 2)}])
def test_unknown(api_keys: dict[int, tuple[int, int]]) -> None:
    version = infer_kafka_version(api_keys, {"kraft.version": 1})
    assert version.release is None
    assert version.basis == VersionBasis.UNKNOWN
    assert "no finalized metadata.version" in version.detail
    assert str(version).startswith("unknown (")


def test_api_names() -> None:
    assert api_name(0) == "Produce"
    assert api_name(1) == "Fetch"
    assert api_name(2) == "ListOffsets"
    assert api_name(3) == "Metadata"
    assert api_name(18) == "ApiVersions"
    assert api_name(60) == "DescribeCluster"
    assert api_name(68) == "ConsumerGroupHeartbeat"
    assert api_name(78) == "ShareFetch"
    assert api_name(94) == "UnregisterController"
    assert api_name(9999) == "ApiKey9999"
    assert all(not api_name(key).startswith("ApiKey") for key in range(95))
