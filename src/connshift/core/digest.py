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


_I32 = struct.Struct(">i").pack
_I64 = struct.Struct(">q").pack
_I64_I32 = struct.Struct(">qi").pack
_NO_HEADERS = _I32(0)
_blake2b = hashlib.blake2b


def record_digest(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    timestamp: int,
) -> bytes:
    """A 16-byte digest of one record's key, value, headers and timestamp.

    BLAKE2b over: timestamp (int64), then key and value each as int32 length + bytes
    (length -1 for null), then the header count (int32) and each header's name and value
    the same way. Built as one buffer and hashed once (this runs per record in validate).
    """
    if not headers and value is not None:  # the common shapes, fast
        if key is None:
            data = b"".join((_I64_I32(timestamp, -1), _I32(len(value)), value, _NO_HEADERS))
        else:
            data = b"".join(
                (_I64_I32(timestamp, len(key)), key, _I32(len(value)), value, _NO_HEADERS)
            )
        return _blake2b(data, digest_size=DIGEST_SIZE).digest()
    parts = [_I64(timestamp)]
    if key is None:
        parts.append(_NULL)
    else:
        parts += (_I32(len(key)), key)
    if value is None:
        parts.append(_NULL)
    else:
        parts += (_I32(len(value)), value)
    if headers:
        parts.append(_I32(len(headers)))
        for name, hval in headers:
            raw = name.encode()
            parts += (_I32(len(raw)), raw)
            if hval is None:
                parts.append(_NULL)
            else:
                parts += (_I32(len(hval)), hval)
    else:
        parts.append(_NO_HEADERS)
    return _blake2b(b"".join(parts), digest_size=DIGEST_SIZE).digest()


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
