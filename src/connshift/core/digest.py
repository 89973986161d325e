"""Content digests of records and of ordered streams of records.

A record's digest covers what a copy must preserve: key, value, headers (names,
values, order) and timestamp. Null and empty are different. A stream digest chains
record digests in order, so reordering, a duplicate or a gap changes it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

DIGEST_SIZE = 16
_NULL = struct.pack(">i", -1)


def _field(h: hashlib.blake2b, data: bytes | None) -> None:
    if data is None:
        h.update(_NULL)
    else:
        h.update(struct.pack(">i", len(data)))
        h.update(data)


def record_digest(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    timestamp: int,
) -> bytes:
    """A 16-byte digest of one record's key, value, headers and timestamp."""
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    h.update(struct.pack(">q", timestamp))
    _field(h, key)
    _field(h, value)
    hdrs = headers or ()
    h.update(struct.pack(">i", len(hdrs)))
    for name, hval in hdrs:
        _field(h, name.encode())
        _field(h, hval)
    return h.digest()


class StreamDigest:
    """An order-sensitive digest over a sequence of record digests."""

    def __init__(self) -> None:
        self._h = hashlib.blake2b(digest_size=DIGEST_SIZE)
        self.count = 0

    def update(self, digest: bytes) -> None:
        self._h.update(digest)
        self.count += 1

    def update_all(self, digests: Iterable[bytes]) -> None:
        for d in digests:
            self.update(d)

    def hexdigest(self) -> str:
        return self._h.hexdigest()
