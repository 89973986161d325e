"""connshift's exception tree and exit codes.

Every error a user can cause or meet says three things, in the style of pip's
``DiagnosticPipError``: *what* happened, *why*, and *what to do*. The CLI prints
them on one line (no traceback unless ``--debug``) and exits with the error's
code. Boundary modules (``io/*``) map foreign exceptions into this tree with
``raise ... from exc`` so the cause stays available under ``--debug``.

Exit codes are a contract (see README):

====  =====================================================================
0     ok
1     a check failed, or the scorecard blocks
2     usage or configuration error (bad spec, unknown key, not available yet)
3     a cluster or service could not be reached, or refused us
====  =====================================================================
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable, documented process exit codes."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    UNREACHABLE = 3


class ConnshiftError(Exception):
    """Base of every error connshift raises on purpose.

    ``what`` is the headline, ``why`` the cause as far as we know it, ``fix`` the
    next step for the user. ``context`` carries identifiers (cluster, topic,
    connector, ...) for ``--json`` output.
    """

    exit_code: ExitCode = ExitCode.CHECK_FAILED

    def __init__(
        self,
        what: str,
        *,
        why: str | None = None,
        fix: str | None = None,
        **context: object,
    ) -> None:
        self.what = what
        self.why = why
        self.fix = fix
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The single line the CLI prints: ``what: why; fix``."""
        line = self.what
        if self.why:
            line += f": {self.why}"
        if self.fix:
            line += f" — {self.fix}"
        return line

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form for ``--json`` output."""
        return {
            "error": type(self).__name__,
            "what": self.what,
            "why": self.why,
            "fix": self.fix,
            "exit_code": int(self.exit_code),
            "context": {k: str(v) for k, v in self.context.items()},
        }


class UsageError(ConnshiftError):
    """The command line asks for something we cannot do."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The migration spec (or another input file) is malformed or inconsistent."""


class ServiceError(ConnshiftError):
    """A cluster or service could not be reached, or refused a request."""

    exit_code = ExitCode.UNREACHABLE


class KafkaError(ServiceError):
    """A Kafka cluster could not be reached or refused a request."""


class KafkaUnavailable(KafkaError):
    """A Kafka cluster could not be reached *for now*: a lost or refused connection, a
    timed-out request, a partition without a leader (a broker restarting, a leader
    moving). A follower retries it with backoff; a one-shot command reports it."""


class KafkaAuthError(KafkaError):
    """A Kafka listener refused who we are: SASL authentication or the TLS handshake failed.
    Retrying another broker of the same cluster does not help."""


class KafkaAccessDenied(KafkaError):
    """A Kafka cluster's authorizer refused an operation to connshift's principal (a missing
    ACL): retrying does not help; granting the ACL does."""


class KafkaNoAuthorizer(KafkaError):
    """A Kafka cluster has no authorizer configured (SECURITY_DISABLED): it keeps no ACLs."""


class ConnectError(ServiceError):
    """A Kafka Connect worker could not be reached or refused a request."""


class ConnectRequestError(ConnectError):
    """The Connect REST API answered with an error status.

    ``status`` is the HTTP status code; ``error_code``/``message`` come from
    Connect's JSON error body when it sent one.
    """

    def __init__(
        self,
        what: str,
        *,
        status: int,
        message: str | None = None,
        why: str | None = None,
        fix: str | None = None,
        **context: object,
    ) -> None:
        self.status = status
        self.message = message
        super().__init__(what, why=why or message, fix=fix, status=status, **context)


class PostgresError(ServiceError):
    """PostgreSQL could not be reached or refused a request."""


class SandboxError(ConnshiftError):
    """The local sandbox could not be set up, started or stopped."""

    exit_code = ExitCode.UNREACHABLE


class CheckFailed(ConnshiftError):
    """A contract check failed (validation, probe, scorecard)."""

    exit_code = ExitCode.CHECK_FAILED
