"""What Kafka release a broker is, inferred from what it says in ApiVersions.

Kafka does not put its software version on the wire. What a broker *does* say in its
ApiVersions response (see :mod:`connshift.io.kafka_wire`) is enough to tell:

1. **The finalized ``metadata.version`` feature** (KRaft clusters, Kafka 3.3+). Its level maps
   one-to-one to a ``MetadataVersion`` name such as ``3.9-IV0``; the release is the ``X.Y``
   prefix. This is the *cluster's* finalized level: during a rolling upgrade (new binaries, level
   not yet raised with ``kafka-features.sh upgrade``) it names the older release.
2. **Otherwise, the highest versions of a few key APIs.** Each milestone below is the first
   release whose brokers speak that API version, so a broker answering with at least that
   version is at least that release; the answer is a lower bound, reported as ``">= X.Y"``.

Everything here is pure: no I/O, no clock.

Sources (checked, not guessed):

* ``_METADATA_VERSIONS``: the ``MetadataVersion`` enum in Apache Kafka's
  ``server-common/src/main/java/org/apache/kafka/server/common/MetadataVersion.java`` (levels
  1-20 from the 3.8 source; levels 1-34 and ``LATEST_PRODUCTION = IBP_4_4_IV2`` from the enum
  compiled into ``kafka-server-common-4.4.0.jar``).
* ``_API_MILESTONES``: the same enum's ``fetchRequestVersion()`` and ``listOffsetRequestVersion()``
  (the request versions a broker of each release sends its peers, which it therefore also
  serves), and ``ApiVersionsResponse.json`` (v3 arrived with KIP-511 in 2.4).
* ``_API_NAMES``: ``org.apache.kafka.common.message.ApiMessageType`` in
  ``kafka-clients-4.4.0.jar`` (keys 0-94).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "LATEST_PRODUCTION_LEVEL",
    "METADATA_VERSION_FEATURE",
    "BrokerVersion",
    "MetadataVersion",
    "VersionBasis",
    "api_name",
    "infer_kafka_version",
    "metadata_version",
]

METADATA_VERSION_FEATURE = "metadata.version"
"""Name of the finalized feature that carries the cluster's metadata version (KIP-778)."""


@dataclass(frozen=True, order=True)
class MetadataVersion:
    """One ``metadata.version`` feature level and its Kafka name.

    ``name`` is Kafka's ``X.Y-IVn`` string; ``release`` its ``X.Y`` prefix. ``production`` is
    False for levels that the newest release we know ships only as unstable (testing) levels.
    """

    level: int
    name: str
    production: bool = True

    @property
    def release(self) -> str:
        """The ``X.Y`` Kafka release this level belongs to."""
        return self.name.split("-", 1)[0]


# Every KRaft feature level in MetadataVersion.java (levels <= 0 are pre-KRaft IBP versions).
_METADATA_VERSIONS: tuple[MetadataVersion, ...] = (
    MetadataVersion(1, "3.0-IV1"),
    MetadataVersion(2, "3.1-IV0"),
    MetadataVersion(3, "3.2-IV0"),
    MetadataVersion(4, "3.3-IV0"),
    MetadataVersion(5, "3.3-IV1"),
    MetadataVersion(6, "3.3-IV2"),
    MetadataVersion(7, "3.3-IV3"),
    MetadataVersion(8, "3.4-IV0"),
    MetadataVersion(9, "3.5-IV0"),
    MetadataVersion(10, "3.5-IV1"),
    MetadataVersion(11, "3.5-IV2"),
    MetadataVersion(12, "3.6-IV0"),
    MetadataVersion(13, "3.6-IV1"),
    MetadataVersion(14, "3.6-IV2"),
    MetadataVersion(15, "3.7-IV0"),
    MetadataVersion(16, "3.7-IV1"),
    MetadataVersion(17, "3.7-IV2"),
    MetadataVersion(18, "3.7-IV3"),
    MetadataVersion(19, "3.7-IV4"),
    MetadataVersion(20, "3.8-IV0"),
    MetadataVersion(21, "3.9-IV0"),
    MetadataVersion(22, "4.0-IV0"),
    MetadataVersion(23, "4.0-IV1"),
    MetadataVersion(24, "4.0-IV2"),
    MetadataVersion(25, "4.0-IV3"),
    MetadataVersion(26, "4.1-IV0"),
    MetadataVersion(27, "4.1-IV1"),
    MetadataVersion(28, "4.2-IV0"),
    MetadataVersion(29, "4.2-IV1"),
    MetadataVersion(30, "4.3-IV0"),
    MetadataVersion(31, "4.4-IV0"),
    MetadataVersion(32, "4.4-IV1"),
    MetadataVersion(33, "4.4-IV2"),
    # Unstable in 4.4.0 (past LATEST_PRODUCTION): finalizable only with
    # unstable.feature.versions.enable=true, so seeing it means a 4.4+ broker in a test setup.
    MetadataVersion(34, "4.5-IV0", production=False),
)

_BY_LEVEL: dict[int, MetadataVersion] = {mv.level: mv for mv in _METADATA_VERSIONS}

LATEST_PRODUCTION_LEVEL = 33
"""``MetadataVersion.LATEST_PRODUCTION`` of the newest release in the table (4.4-IV2)."""


def metadata_version(level: int) -> MetadataVersion | None:
    """The ``metadata.version`` entry for a feature level, or None when the table lacks it."""
    return _BY_LEVEL.get(level)


class VersionBasis(StrEnum):
    """What a :class:`BrokerVersion` was inferred from."""

    METADATA_VERSION = "metadata.version"
    API_VERSIONS = "api-versions"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class BrokerVersion:
    """A broker's Kafka release as far as its ApiVersions answer tells.

    ``release`` is ``"X.Y"`` when known exactly (from ``metadata.version``), ``">= X.Y"`` when only
    a lower bound is known, None when nothing can be said. ``metadata_version`` is the finalized
    level's name (``"3.9-IV0"``) when the cluster finalized one. ``basis`` says which evidence was
    used (a :class:`VersionBasis`, which compares equal to its string value); ``detail`` is one
    human sentence of evidence, for reports.
    """

    release: str | None
    metadata_version: str | None
    basis: str
    detail: str = ""

    def __str__(self) -> str:
        """A one-line rendering, e.g. ``3.9 (metadata.version 3.9-IV0)``."""
        if self.release is None:
            return f"unknown ({self.detail})" if self.detail else "unknown"
        if self.metadata_version is not None:
            return f"{self.release} (metadata.version {self.metadata_version})"
        return f"{self.release} ({self.basis})"


@dataclass(frozen=True)
class _Milestone:
    """``api_key`` at max version >= ``version`` means the broker is at least ``release``."""

    api_key: int
    version: int
    release: str


_PRODUCE, _FETCH, _LIST_OFFSETS, _METADATA, _API_VERSIONS = 0, 1, 2, 3, 18

# From MetadataVersion.fetchRequestVersion() / listOffsetRequestVersion() (3.8 source and the
# 4.4.0 jar) and ApiVersionsResponse.json. Only versions the enum names are listed.
_API_MILESTONES: tuple[_Milestone, ...] = (
    _Milestone(_FETCH, 1, "0.9"),
    _Milestone(_FETCH, 2, "0.10.0"),
    _Milestone(_FETCH, 3, "0.10.1"),
    _Milestone(_FETCH, 4, "0.11.0"),
    _Milestone(_FETCH, 5, "0.11.0"),
    _Milestone(_FETCH, 7, "1.1"),
    _Milestone(_FETCH, 8, "2.0"),
    _Milestone(_FETCH, 10, "2.1"),
    _Milestone(_FETCH, 11, "2.3"),
    _Milestone(_FETCH, 12, "2.7"),
    _Milestone(_FETCH, 13, "3.1"),
    _Milestone(_FETCH, 14, "3.5"),
    _Milestone(_FETCH, 15, "3.5"),
    _Milestone(_FETCH, 16, "3.7"),
    _Milestone(_FETCH, 17, "3.9"),
    _Milestone(_FETCH, 18, "4.1"),
    _Milestone(_LIST_OFFSETS, 1, "0.10.1"),
    _Milestone(_LIST_OFFSETS, 2, "0.11.0"),
    _Milestone(_LIST_OFFSETS, 3, "2.0"),
    _Milestone(_LIST_OFFSETS, 4, "2.1"),
    _Milestone(_LIST_OFFSETS, 5, "2.2"),
    _Milestone(_LIST_OFFSETS, 6, "2.8"),
    _Milestone(_LIST_OFFSETS, 7, "3.0"),
    _Milestone(_LIST_OFFSETS, 8, "3.5"),
    _Milestone(_LIST_OFFSETS, 9, "3.9"),
    _Milestone(_LIST_OFFSETS, 10, "4.0"),
    _Milestone(_LIST_OFFSETS, 11, "4.2"),
    _Milestone(_API_VERSIONS, 3, "2.4"),
)


def _release_key(release: str) -> tuple[int, ...]:
    """``"0.10.1"`` -> ``(0, 10, 1)``, for ordering releases."""
    return tuple(int(part) for part in release.split("."))


def infer_kafka_version(
    api_keys: Mapping[int, tuple[int, int]],
    finalized_features: Mapping[str, int],
) -> BrokerVersion:
    """Infer the Kafka release of a broker from its ApiVersions answer.

    ``api_keys`` maps API key -> ``(min_version, max_version)``; ``finalized_features`` maps a
    finalized feature name -> its max version level (both as in
    :class:`connshift.io.kafka_wire.ApiVersionsResult`).

    The finalized ``metadata.version`` wins when the table knows its level (basis
    ``"metadata.version"``). A level newer than the table gives a lower bound from the newest
    known release. Without one, the highest Fetch / ListOffsets / ApiVersions versions give a
    lower bound (basis ``"api-versions"``); with none of those either, ``release`` is None (basis
    ``"unknown"``, ``detail`` says why).
    """
    level = finalized_features.get(METADATA_VERSION_FEATURE)
    if level is not None:
        known = _BY_LEVEL.get(level)
        if known is not None:
            detail = f"finalized {METADATA_VERSION_FEATURE} level {level} = {known.name}"
            if not known.production:
                detail += " (an unstable level: unstable feature versions are enabled)"
            return BrokerVersion(known.release, known.name, VersionBasis.METADATA_VERSION, detail)
        newest = _METADATA_VERSIONS[-1]
        if level > newest.level:
            return BrokerVersion(
                f">= {newest.release}",
                None,
                VersionBasis.METADATA_VERSION,
                f"finalized {METADATA_VERSION_FEATURE} level {level} is newer than the newest "
                f"level connshift knows ({newest.level} = {newest.name})",
            )
        # level <= 0: not a KRaft metadata level; fall back to the API versions.

    best: _Milestone | None = None
    for milestone in _API_MILESTONES:
        versions = api_keys.get(milestone.api_key)
        if versions is None or versions[1] < milestone.version:
            continue
        if best is None or _release_key(milestone.release) > _release_key(best.release):
            best = milestone
    if best is None:
        why = "no finalized metadata.version"
        if not api_keys:
            why += " and no API versions"
        else:
            why += " and no Fetch/ListOffsets/ApiVersions version that dates the release"
        return BrokerVersion(None, None, VersionBasis.UNKNOWN, why)
    detail = f"{api_name(best.api_key)} max version {api_keys[best.api_key][1]} >= {best.version}"
    detail += f", first served in Kafka {best.release}"
    return BrokerVersion(f">= {best.release}", None, VersionBasis.API_VERSIONS, detail)


_API_NAMES: dict[int, str] = {
    0: "Produce",
    1: "Fetch",
    2: "ListOffsets",
    3: "Metadata",
    4: "LeaderAndIsr",
    5: "StopReplica",
    6: "UpdateMetadata",
    7: "ControlledShutdown",
    8: "OffsetCommit",
    9: "OffsetFetch",
    10: "FindCoordinator",
    11: "JoinGroup",
    12: "Heartbeat",
    13: "LeaveGroup",
    14: "SyncGroup",
    15: "DescribeGroups",
    16: "ListGroups",
    17: "SaslHandshake",
    18: "ApiVersions",
    19: "CreateTopics",
    20: "DeleteTopics",
    21: "DeleteRecords",
    22: "InitProducerId",
    23: "OffsetForLeaderEpoch",
    24: "AddPartitionsToTxn",
    25: "AddOffsetsToTxn",
    26: "EndTxn",
    27: "WriteTxnMarkers",
    28: "TxnOffsetCommit",
    29: "DescribeAcls",
    30: "CreateAcls",
    31: "DeleteAcls",
    32: "DescribeConfigs",
    33: "AlterConfigs",
    34: "AlterReplicaLogDirs",
    35: "DescribeLogDirs",
    36: "SaslAuthenticate",
    37: "CreatePartitions",
    38: "CreateDelegationToken",
    39: "RenewDelegationToken",
    40: "ExpireDelegationToken",
    41: "DescribeDelegationToken",
    42: "DeleteGroups",
    43: "ElectLeaders",
    44: "IncrementalAlterConfigs",
    45: "AlterPartitionReassignments",
    46: "ListPartitionReassignments",
    47: "OffsetDelete",
    48: "DescribeClientQuotas",
    49: "AlterClientQuotas",
    50: "DescribeUserScramCredentials",
    51: "AlterUserScramCredentials",
    52: "Vote",
    53: "BeginQuorumEpoch",
    54: "EndQuorumEpoch",
    55: "DescribeQuorum",
    56: "AlterPartition",
    57: "UpdateFeatures",
    58: "Envelope",
    59: "FetchSnapshot",
    60: "DescribeCluster",
    61: "DescribeProducers",
    62: "BrokerRegistration",
    63: "BrokerHeartbeat",
    64: "UnregisterBroker",
    65: "DescribeTransactions",
    66: "ListTransactions",
    67: "AllocateProducerIds",
    68: "ConsumerGroupHeartbeat",
    69: "ConsumerGroupDescribe",
    70: "ControllerRegistration",
    71: "GetTelemetrySubscriptions",
    72: "PushTelemetry",
    73: "AssignReplicasToDirs",
    74: "ListConfigResources",  # 3.9 calls it ListClientMetricsResources
    75: "DescribeTopicPartitions",
    76: "ShareGroupHeartbeat",
    77: "ShareGroupDescribe",
    78: "ShareFetch",
    79: "ShareAcknowledge",
    80: "AddRaftVoter",
    81: "RemoveRaftVoter",
    82: "UpdateRaftVoter",
    83: "InitializeShareGroupState",
    84: "ReadShareGroupState",
    85: "WriteShareGroupState",
    86: "DeleteShareGroupState",
    87: "ReadShareGroupStateSummary",
    88: "StreamsGroupHeartbeat",
    89: "StreamsGroupDescribe",
    90: "DescribeShareGroupOffsets",
    91: "AlterShareGroupOffsets",
    92: "DeleteShareGroupOffsets",
    93: "StreamsGroupTopologyDescriptionUpdate",
    94: "UnregisterController",
}


def api_name(key: int) -> str:
    """The Kafka name of an API key (``0`` -> ``"Produce"``); ``"ApiKey<n>"`` when unknown."""
    return _API_NAMES.get(key, f"ApiKey{key}")
