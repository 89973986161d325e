"""The probe's checks, one function each, grouped by area; importing this package registers
them all in :data:`~connshift.app.probe.registry.REGISTRY`."""

from connshift.app.probe.checks import (
    acls,
    connect,
    groups,
    offsets,
    raw,
    records,
    topics,
    transactions,
)

__all__ = ["acls", "connect", "groups", "offsets", "raw", "records", "topics", "transactions"]
