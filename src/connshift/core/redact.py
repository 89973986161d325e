"""Redaction of connector configs: secrets never leave connshift.

A key that looks like it holds a secret (password, secret, token, API key,
credential, a JAAS config, a private key) has its value shown as ``***`` — unless
the value is a ``${provider:...}`` reference, which is not the secret itself and
shows where the secret lives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "***"
SECRET_KEYS = re.compile(
    r"(password|passwd|secret|token|api[._-]?key|credential|jaas|private[._-]?key)", re.I
)
PROVIDER_REF = re.compile(r"\$\{([A-Za-z0-9_.-]+):")


def is_inline_secret(key: str, value: object) -> bool:
    """True when ``key`` holds a secret written inline (not through a config provider)."""
    return bool(SECRET_KEYS.search(key)) and not PROVIDER_REF.search(str(value))


#: a secret inside a value: a URL's user info (``scheme://user:secret@host``) and
#: ``password=secret`` style parameters (JDBC URLs, connection strings)
_URL_USERINFO = re.compile(r"(://[^/:@\s]*:)([^@/\s]+)(@)")
_INLINE_PARAM = re.compile(
    r"((?:password|passwd|pwd|secret|token|api[._-]?key|access[._-]?key)\s*=\s*)"
    r"(?!\$\{)([^&;,\s\"']+)",
    re.I,
)


def scrub(value: str) -> str:
    """``value`` with secrets embedded in it (a URL's password, ``password=...``
    parameters) replaced by ``***``; provider references are kept."""
    value = _URL_USERINFO.sub(lambda m: m[1] + REDACTED + m[3], value)
    return _INLINE_PARAM.sub(lambda m: m[1] + REDACTED, value)


def redact(config: Mapping[str, object]) -> dict[str, str]:
    """``config`` with inline secret values replaced by ``***``, and secrets embedded in
    other values (URLs, connection strings) scrubbed."""
    return {k: REDACTED if is_inline_secret(k, v) else scrub(str(v)) for k, v in config.items()}


def inline_secrets(config: Mapping[str, object]) -> list[str]:
    """The keys whose secret values are written inline."""
    return sorted(k for k, v in config.items() if is_inline_secret(k, v))


def providers(config: Mapping[str, object]) -> list[str]:
    """The config providers referenced (``${file:...}`` -> ``file``)."""
    return sorted({m for v in config.values() for m in PROVIDER_REF.findall(str(v))})


def references(config: Mapping[str, object]) -> dict[str, list[str]]:
    """The keys that take their value from a config provider, by provider
    (``{"file": ["database.password"]}``)."""
    out: dict[str, list[str]] = {}
    for key, value in sorted(config.items()):
        for provider in sorted(set(PROVIDER_REF.findall(str(value)))):
            out.setdefault(provider, []).append(key)
    return out
