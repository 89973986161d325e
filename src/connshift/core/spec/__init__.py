"""The migration spec (``connshift.yaml``): typed models, secret references, redaction.

Pure: nothing here reads files or the environment. :mod:`connshift.app.config` does the
I/O (reads the YAML, the environment, secret files) and hands the results to
:func:`parse_spec` / :func:`resolve_references` through plain values and callbacks.

The package's modules:

* :mod:`~connshift.core.spec.models`: the pydantic models, :class:`Spec` and its sections;
* :mod:`~connshift.core.spec.references`: finding and resolving ``${...}`` references;
* :mod:`~connshift.core.spec.properties`: the Java ``.properties`` parser they use;
* :mod:`~connshift.core.spec.parse`: :func:`parse_spec`, references resolved then validated;
* :mod:`~connshift.core.spec.sandbox_text`: the local sandbox's spec text.

Every name is re-exported here: import from ``connshift.core.spec``.

Secrets
    Any string value may contain ``${env:NAME}``, ``${file:PATH:KEY}`` or ``${file:PATH}``
    (``$${`` writes a literal ``${``). Password-like fields are :class:`~pydantic.SecretStr`
    and always render as ``***``; :meth:`Spec.redacted_dict` shows a referenced value as its
    reference text. Only :meth:`KafkaSpec.client_config` and the ``get_secret_value()`` of a
    secret field reveal a secret.
"""

from __future__ import annotations

from connshift.core.spec.models import (
    DEFAULT_TOPIC_EXCLUDE,
    REDACTED,
    BasicAuth,
    ConnectorScope,
    ConnectSpec,
    CostSpec,
    CriteriaSpec,
    CutoverSpec,
    KafkaSpec,
    KeyPath,
    NetworkControl,
    PathText,
    ReadinessSpec,
    SaslMechanism,
    SaslSpec,
    SecretText,
    SecurityProtocol,
    Side,
    Spec,
    SpecValueError,
    StorageModel,
    TargetModel,
    TlsSpec,
    TopicScope,
    WorkerBoundary,
    format_key_path,
    same_connect,
    same_kafka,
)
from connshift.core.spec.parse import parse_spec
from connshift.core.spec.properties import parse_properties
from connshift.core.spec.references import find_references, resolve_references
from connshift.core.spec.sandbox_text import SaslTls, sandbox_spec_yaml

__all__ = [
    "DEFAULT_TOPIC_EXCLUDE",
    "REDACTED",
    "BasicAuth",
    "ConnectSpec",
    "ConnectorScope",
    "CostSpec",
    "CriteriaSpec",
    "CutoverSpec",
    "KafkaSpec",
    "KeyPath",
    "NetworkControl",
    "PathText",
    "ReadinessSpec",
    "SaslMechanism",
    "SaslSpec",
    "SaslTls",
    "SecretText",
    "SecurityProtocol",
    "Side",
    "Spec",
    "SpecValueError",
    "StorageModel",
    "TargetModel",
    "TlsSpec",
    "TopicScope",
    "WorkerBoundary",
    "find_references",
    "format_key_path",
    "parse_properties",
    "parse_spec",
    "resolve_references",
    "same_connect",
    "same_kafka",
    "sandbox_spec_yaml",
]
