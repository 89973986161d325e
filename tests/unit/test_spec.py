"""The migration spec: models, references, redaction, error lines, template, sandbox."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connshift.app.config import (
    load_spec,
    parse_spec_text,
    template_text,
    write_template,
)
from connshift.core.spec import (
    DEFAULT_TOPIC_EXCLUDE,
    ConnectorScope,
    KafkaSpec,
    Spec,
    TopicScope,
    format_key_path,
    parse_properties,
    parse_spec,
    resolve_references,
    sandbox_spec_yaml,
)
from connshift.errors import ConfigError, ExitCode

MINIMAL = """\
version: 1
source:
  kafka:
    bootstrap_servers: 127.0.0.1:19092
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:29092
"""


def write(tmp_path: Path, text: str, name: str = "connshift.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_spec(path, env=env or {})
    error = info.value
    assert error.exit_code == ExitCode.USAGE
    assert int(error.exit_code) == 2
    assert "\n" not in str(error)
    assert str(path) in error.what
    return error


def no_files(path: str) -> str:
    raise AssertionError(f"unexpected file read {path}")


# --------------------------------------------------------------------------- valid specs


def test_minimal_spec_gets_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL), env={})
    assert spec.version == 1
    assert spec.name == "migration"
    assert spec.source.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert spec.source.kafka.security_protocol == "PLAINTEXT"
    assert spec.source.connect is None
    assert spec.connectors.include == [] and spec.connectors.exclude == []
    assert spec.topics.include == [".*"]
    assert spec.topics.exclude == list(DEFAULT_TOPIC_EXCLUDE)
    assert spec.state_dir == str(tmp_path / ".connshift")


def test_full_spec_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        version: 1
        name: prod-to-cloud
        source:
          kafka:
            bootstrap_servers: [" a:9092", "b:9092 "]
            security_protocol: sasl_ssl
            sasl: {mechanism: scram-sha-512, username: u, password: p}
            tls: {ca_file: certs/ca.pem}
            client_config: {linger.ms: 5, enable.idempotence: true}
          connect:
            url: https://connect.example.com:8083/
            auth: {username: admin, password: pw}
        destination:
          kafka:
            bootstrap_servers: "c:9092,d:9092"
          connect:
            url: http://127.0.0.1:28083
        connectors: {include: ["pg-.*", "orders-sink"], exclude: [pg-test]}
        topics:
          include: ["orders.*", "users"]
          exclude: ["orders-dlq"]
          rename: {users: users-v2}
          prefix: "src."
        state_dir: /var/lib/connshift
        """,
    )
    spec = load_spec(path, env={})
    kafka = spec.source.kafka
    assert kafka.bootstrap_servers == "a:9092,b:9092"
    assert kafka.security_protocol == "SASL_SSL"
    assert kafka.sasl is not None and kafka.sasl.mechanism == "SCRAM-SHA-512"
    assert kafka.tls is not None and kafka.tls.ca_file == str(tmp_path / "certs" / "ca.pem")
    assert kafka.extra_config == {"linger.ms": "5", "enable.idempotence": "true"}
    assert spec.source.connect is not None
    assert spec.source.connect.url == "https://connect.example.com:8083"
    assert spec.source.connect.auth is not None
    assert spec.source.connect.auth.password.get_secret_value() == "pw"
    assert spec.destination.kafka.bootstrap_servers == "c:9092,d:9092"
    assert spec.state_dir == "/var/lib/connshift"
    assert spec.topics.destination_name("users") == "users-v2"
    assert spec.topics.destination_name("orders") == "src.orders"


def test_home_in_paths_is_expanded(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "state_dir: ~/migrations/one\n")
    assert load_spec(path, env={}).state_dir == str(Path.home() / "migrations" / "one")


# --------------------------------------------------------------------------- error lines


def test_unknown_top_level_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "thresholds: {lag: 5}\n")
    assert "thresholds: unknown key" in error.what
    assert error.context["key"] == "thresholds"
    assert error.fix and "connshift init" in error.fix


def test_unknown_nested_key_names_dotted_path_and_suggests(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        MINIMAL.replace("bootstrap_servers: 127.0.0.1:29092", "bootstrap_server: x:1"),
    )
    assert "destination.kafka.bootstrap_server: unknown key" in error.what
    assert "did you mean 'bootstrap_servers'" in error.what
    # the consequent "missing bootstrap_servers" is counted, not shown first
    assert error.what.endswith("(and 1 more)")


def test_missing_required_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, "version: 1\nsource: {kafka: {bootstrap_servers: a:1}}\n")
    assert error.what == f"{tmp_path / 'connshift.yaml'}: destination: required key is missing"
    error = config_error(
        tmp_path,
        "version: 1\nsource: {kafka: {bootstrap_servers: a:1}}\ndestination: {kafka: {}}\n",
    )
    assert "destination.kafka.bootstrap_servers: required key is missing" in error.what


def test_several_errors_show_first_and_count(tmp_path: Path) -> None:
    error = config_error(tmp_path, "version: 1\n")
    assert "source: required key is missing (and 1 more)" in error.what


def test_wrong_version(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("version: 1", "version: 2"))
    assert "version: unsupported spec version 2" in error.what


@pytest.mark.parametrize(
    ("topics", "key"),
    [
        ("{include: ['orders(']}", "topics.include[0]"),
        ("{exclude: ['ok', '[a-']}", "topics.exclude[1]"),
    ],
)
def test_bad_regex_names_the_key(tmp_path: Path, topics: str, key: str) -> None:
    error = config_error(tmp_path, MINIMAL + f"topics: {topics}\n")
    assert f"{key}: not a valid regex" in error.what
    assert error.context["key"] == key


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    error = config_error(tmp_path, "version: 1\nsource:\n  kafka: [\n")
    assert "not valid YAML at line" in error.what
    assert ", column " in error.what


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "version: 1\n")
    assert "line 8" in error.what
    assert error.why and "duplicate key 'version'" in error.why


def test_empty_and_non_mapping_specs(tmp_path: Path) -> None:
    assert "empty" in config_error(tmp_path, "").what
    assert "mapping" in config_error(tmp_path, "- 1\n").what


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert info.value.what == f"spec file not found: {tmp_path / 'nope.yaml'}"
    assert info.value.fix == "create one with `connshift init` or pass -c"
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("kafka", "key", "problem"),
    [
        ("{bootstrap_servers: a:1, security_protocol: SASL_SSL}", "sasl", "required when"),
        (
            "{bootstrap_servers: a:1, sasl: {mechanism: PLAIN, username: u, password: p}}",
            "sasl",
            "use SASL_PLAINTEXT or SASL_SSL",
        ),
        ("{bootstrap_servers: a:1, tls: {ca_file: ca.pem}}", "tls", "use SSL or SASL_SSL"),
        (
            "{bootstrap_servers: a:1, security_protocol: SASL_PLAINTEXT,"
            " sasl: {mechanism: PLAIN, username: u}}",
            "sasl.password",
            "required for mechanism PLAIN",
        ),
        ("{bootstrap_servers: a:1, security_protocol: TLS}", "security_protocol", "one of"),
        (
            "{bootstrap_servers: a:1, client_config: {bootstrap.servers: b:1}}",
            "client_config.bootstrap.servers",
            "already set",
        ),
        ("{bootstrap_servers: ''}", "bootstrap_servers", "empty entry"),
        ("{bootstrap_servers: 'a:1,,b:2'}", "bootstrap_servers", "empty entry"),
        (
            "{bootstrap_servers: a:1, security_protocol: SSL, tls: {cert_file: c.pem}}",
            "tls.key_file",
            "set both",
        ),
    ],
)
def test_kafka_consistency_errors(tmp_path: Path, kafka: str, key: str, problem: str) -> None:
    text = MINIMAL.replace("  kafka:\n    bootstrap_servers: 127.0.0.1:19092", f"  kafka: {kafka}")
    error = config_error(tmp_path, text)
    assert f"source.kafka.{key}: " in error.what
    assert problem in error.what


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://x:1", "http:// or https://"),
        ("127.0.0.1:8083", "http:// or https://"),
        ("http://admin:pw@x:8083", "credentials"),
        ("http://x:notaport", "invalid port"),
    ],
)
def test_bad_connect_url(tmp_path: Path, url: str, problem: str) -> None:
    error = config_error(tmp_path, MINIMAL + f"  connect: {{url: '{url}'}}\n")
    assert "destination.connect.url: " in error.what
    assert problem in error.what
    assert "pw" not in str(error)


# --------------------------------------------------------------------------- references


def test_env_and_file_references_resolve(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "kafka.properties").write_text(
        "# comment\nsasl.username = svc\nsasl.password: p\\u00e4ss\\\n  word\n"
    )
    (tmp_path / "secrets" / "connect.json").write_text('{"basic": {"password": "jpw"}}')
    (tmp_path / "secrets" / "tls.yaml").write_text("key_password: 1234\n")
    (tmp_path / "token.txt").write_text("  whole-file-secret\n")
    path = write(
        tmp_path,
        """\
        version: 1
        source:
          kafka:
            bootstrap_servers: ${env:SRC_HOST}:9092
            security_protocol: SASL_SSL
            sasl:
              mechanism: PLAIN
              username: ${file:secrets/kafka.properties:sasl.username}
              password: ${file:secrets/kafka.properties:sasl.password}
            tls:
              cert_file: c.pem
              key_file: k.pem
              key_password: ${file:secrets/tls.yaml:key_password}
          connect:
            url: http://127.0.0.1:18083
            auth: {username: admin, password: "${file:secrets/connect.json:basic.password}"}
        destination:
          kafka:
            bootstrap_servers: 127.0.0.1:29092
            client_config:
              sasl.oauthbearer.config: ${file:token.txt}
        topics:
          include: ['$${literal}']
        """,
    )
    spec = load_spec(path, env={"SRC_HOST": "broker1"})
    kafka = spec.source.kafka
    assert kafka.bootstrap_servers == "broker1:9092"
    assert kafka.sasl is not None and kafka.sasl.username == "svc"
    assert kafka.sasl.password is not None
    assert kafka.sasl.password.get_secret_value() == "päss" + "word"
    assert kafka.tls is not None and kafka.tls.key_password is not None
    assert kafka.tls.key_password.get_secret_value() == "1234"
    assert spec.source.connect is not None and spec.source.connect.auth is not None
    assert spec.source.connect.auth.password.get_secret_value() == "jpw"
    assert spec.destination.kafka.client_config()["sasl.oauthbearer.config"] == (
        "whole-file-secret"
    )
    assert spec.topics.include == ["${literal}"]


def test_missing_env_var_names_key_and_variable_only(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        MINIMAL.replace("127.0.0.1:29092", "${env:DEST_BOOTSTRAP}"),
        env={"DEST_BOOTSTRAP_X": "other-value-1", "PATH": "other-value-2"},
    )
    assert "destination.kafka.bootstrap_servers: environment variable DEST_BOOTSTRAP" in (
        error.what
    )
    rendered = str(error) + json.dumps(error.as_dict())
    assert "other-value" not in rendered


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("${vault:secret/kafka}", "unknown reference provider 'vault'"),
        ("${env:}", "empty variable name"),
        ("${nocolon}", "malformed reference"),
        ("'${env:UNCLOSED'", "unterminated"),
        ("${file:missing.properties:k}", "cannot read missing.properties"),
        ("${file:present.properties:nokey}", "key 'nokey' not found in present.properties"),
    ],
)
def test_bad_references(tmp_path: Path, value: str, problem: str) -> None:
    (tmp_path / "present.properties").write_text("k=v\n")
    error = config_error(tmp_path, MINIMAL.replace("127.0.0.1:29092", value))
    assert "destination.kafka.bootstrap_servers: " in error.what
    assert problem in error.what


def test_resolve_references_is_pure_and_leaves_non_strings() -> None:
    tree: dict[str, Any] = {"a": ["${env:X}", 1, None], "b": {"c": "x-${env:X}-${env:Y}"}}
    reads: list[str] = []

    def read(path: str) -> str:
        reads.append(path)
        return "k=file\n"

    out = resolve_references(tree, {"X": "1", "Y": "2"}, read)
    assert out == {"a": ["1", 1, None], "b": {"c": "x-1-2"}}
    assert tree["a"][0] == "${env:X}"  # input untouched
    assert resolve_references({"k": "${file:/s.props:k}", "j": "${file:/s.props:k}"}, {}, read)
    assert reads == ["/s.props"]  # read once


def test_parse_properties() -> None:
    text = "a=1\n! bang comment\nb : two words\nc three\nd=\\\n   continued\ne\\=f=g\n"
    assert parse_properties(text) == {
        "a": "1",
        "b": "two words",
        "c": "three",
        "d": "continued",
        "e=f": "g",
    }


# --------------------------------------------------------------------------- secrets

SECRET_SPEC = """\
version: 1
source:
  kafka:
    bootstrap_servers: 127.0.0.1:19092
    security_protocol: SASL_SSL
    sasl: {mechanism: SCRAM-SHA-256, username: svc, password: "${env:KAFKA_PASSWORD}"}
    tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem, key_password: hunter2-literal}
  connect:
    url: http://127.0.0.1:18083
    auth: {username: admin, password: "${file:connect.properties:password}"}
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:29092
    security_protocol: SASL_PLAINTEXT
    sasl:
      mechanism: OAUTHBEARER
      token_endpoint_url: https://idp.example.com/token
      client_id: connshift
      client_secret: ${env:OAUTH_SECRET}
    client_config:
      ssl.keystore.password: hunter2-keystore
      custom.setting: ${env:CUSTOM}
"""
SECRETS = {
    "KAFKA_PASSWORD": "hunter2-secret",
    "OAUTH_SECRET": "hunter2-oauth",
    "CUSTOM": "hunter2-custom",
}


@pytest.fixture
def secret_spec(tmp_path: Path) -> Spec:
    (tmp_path / "connect.properties").write_text("password=hunter2-connect\n")
    return load_spec(write(tmp_path, SECRET_SPEC), env=SECRETS)


def renderings(spec: Spec) -> list[str]:
    return [
        repr(spec),
        str(spec),
        f"{spec}",
        spec.model_dump_json(),
        spec.model_dump_json(by_alias=True),
        str(spec.model_dump()),
        json.dumps(spec.redacted_dict()),
        repr(spec.source),
        repr(spec.destination.kafka),
        str(spec.destination.kafka.model_dump()),
        str(spec.source.kafka.redacted_client_config()),
        str(spec.destination.kafka.redacted_client_config()),
    ]


def test_secrets_never_rendered(secret_spec: Spec) -> None:
    # the secrets are really there for the clients ...
    source = secret_spec.source.kafka.client_config()
    destination = secret_spec.destination.kafka.client_config()
    assert source["sasl.password"] == "hunter2-secret"
    assert source["ssl.key.password"] == "hunter2-literal"
    assert destination["sasl.oauthbearer.client.secret"] == "hunter2-oauth"
    assert destination["ssl.keystore.password"] == "hunter2-keystore"
    assert destination["custom.setting"] == "hunter2-custom"
    # ... and in no rendering of the spec
    for text in renderings(secret_spec):
        assert "hunter2" not in text, text


def test_redacted_dict_shows_references_and_stars(secret_spec: Spec) -> None:
    data = secret_spec.redacted_dict()
    source, destination = data["source"], data["destination"]
    assert source["kafka"]["sasl"]["password"] == "${env:KAFKA_PASSWORD}"
    assert source["kafka"]["tls"]["key_password"] == "***"
    assert source["connect"]["auth"]["password"] == "${file:connect.properties:password}"
    assert destination["kafka"]["sasl"]["client_secret"] == "${env:OAUTH_SECRET}"
    assert destination["kafka"]["client_config"] == {
        "ssl.keystore.password": "***",
        "custom.setting": "${env:CUSTOM}",
    }
    assert source["kafka"]["sasl"]["username"] == "svc"
    json.dumps(data)  # JSON-ready


def test_redacted_dict_for_reference_inside_normalised_list() -> None:
    tree = {
        "version": 1,
        "source": {"kafka": {"bootstrap_servers": ["${env:B1}", "b2:9092"]}},
        "destination": {"kafka": {"bootstrap_servers": "d:9092"}},
    }
    spec = parse_spec(tree, env={"B1": "b1:9092"}, read_file=no_files)
    assert spec.source.kafka.bootstrap_servers == "b1:9092,b2:9092"
    shown = spec.redacted_dict()["source"]["kafka"]["bootstrap_servers"]
    assert shown == ["${env:B1}", "b2:9092"]


def test_config_errors_never_show_secrets(tmp_path: Path) -> None:
    (tmp_path / "connect.properties").write_text("password=hunter2-connect\n")
    broken = SECRET_SPEC.replace("security_protocol: SASL_PLAINTEXT", "security_protocol: SSL")
    broken += "unknown: [hunter2-literal-value]\n"
    broken = broken.replace("username: svc", "username: [hunter2-bad-type]")
    path = write(tmp_path, broken)
    with pytest.raises(ConfigError) as info:
        load_spec(path, env=SECRETS)
    rendered = str(info.value) + json.dumps(info.value.as_dict()) + repr(info.value.__cause__)
    assert "(and " in rendered
    assert "hunter2" not in rendered

    path = write(tmp_path, MINIMAL + '    client_config: {x.password: "hunter2-unclosed\n')
    with pytest.raises(ConfigError) as info:
        load_spec(path, env=SECRETS)
    assert "not valid YAML" in info.value.what
    assert "hunter2" not in str(info.value) + json.dumps(info.value.as_dict())


def test_validation_error_from_core_hides_input() -> None:
    tree: dict[str, Any] = {
        "version": 1,
        "source": {"kafka": {"bootstrap_servers": "a:1"}},
        "destination": 7,
    }
    tree["source"]["kafka"]["sasl"] = {"mechanism": "PLAIN", "username": "u", "password": 5}
    with pytest.raises(ValidationError) as info:
        parse_spec(tree, env={}, read_file=no_files)
    assert "input_value" not in str(info.value)


# --------------------------------------------------------------------------- kafka config


def test_client_config_for_sasl_ssl() -> None:
    kafka = KafkaSpec.model_validate(
        {
            "bootstrap_servers": ["k1:9093", "k2:9093"],
            "security_protocol": "SASL_SSL",
            "sasl": {"mechanism": "SCRAM-SHA-512", "username": "svc", "password": "pw"},
            "tls": {
                "ca_file": "/etc/ca.pem",
                "cert_file": "/etc/c.pem",
                "key_file": "/etc/k.pem",
                "key_password": "kpw",
                "verify_hostname": False,
            },
            "client_config": {"client.id": "connshift", "socket.timeout.ms": 30000},
        }
    )
    assert kafka.client_config() == {
        "bootstrap.servers": "k1:9093,k2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": "pw",
        "ssl.ca.location": "/etc/ca.pem",
        "ssl.certificate.location": "/etc/c.pem",
        "ssl.key.location": "/etc/k.pem",
        "ssl.key.password": "kpw",
        "ssl.endpoint.identification.algorithm": "none",
        "client.id": "connshift",
        "socket.timeout.ms": "30000",
    }
    redacted = kafka.redacted_client_config()
    assert redacted["sasl.password"] == redacted["ssl.key.password"] == "***"
    assert redacted["sasl.username"] == "svc"


def test_client_config_plaintext_is_minimal() -> None:
    kafka = KafkaSpec.model_validate({"bootstrap_servers": "a:1"})
    assert kafka.client_config() == {"bootstrap.servers": "a:1", "security.protocol": "PLAINTEXT"}


def test_spec_is_immutable(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL), env={})
    with pytest.raises(ValidationError):
        spec.name = "other"


# --------------------------------------------------------------------------- scopes


def test_topic_scope_selects_and_renames() -> None:
    scope = TopicScope.model_validate(
        {
            "include": ["orders.*", "users"],
            "exclude": ["orders-dlq"],
            "rename": {"users": "customers"},
            "prefix": "old.",
        }
    )
    assert scope.selects("orders")
    assert scope.selects("orders-eu")
    assert not scope.selects("orders-dlq")
    assert not scope.selects("users-archive")  # regexes match the whole name
    assert not scope.selects("my-orders")
    assert scope.destination_name("users") == "customers"
    assert scope.destination_name("orders-eu") == "old.orders-eu"


def test_topic_scope_default_skips_internal_topics() -> None:
    scope = TopicScope()
    assert scope.selects("orders")
    for internal in ("__consumer_offsets", "__transaction_state", "connect-offsets"):
        assert not scope.selects(internal)
    assert scope.selects("_schemas")
    assert scope.destination_name("orders") == "orders"


@pytest.mark.parametrize(
    ("topics", "key", "problem"),
    [
        ({"rename": {"a": "b"}, "include": ["x.*"]}, "topics.rename.a", "not selected"),
        ({"rename": {"a": "c", "b": "c"}}, "topics.rename.b", "already renamed to 'c'"),
        ({"rename": {"a": "bad name"}}, "topics.rename.a", "not a valid Kafka topic name"),
        ({"prefix": "x/"}, "topics.prefix", "may only contain"),
        ({"include": []}, "topics.include", "at least one"),
    ],
)
def test_topic_scope_errors(tmp_path: Path, topics: dict[str, Any], key: str, problem: str) -> None:
    error = config_error(tmp_path, MINIMAL + f"topics: {json.dumps(topics)}\n")
    assert f"{key}: " in error.what
    assert problem in error.what


def test_connector_scope() -> None:
    everything = ConnectorScope()
    assert everything.selects("anything")
    scope = ConnectorScope(include=["pg-.*", "orders(sink", "exact.name"], exclude=["pg-test"])
    assert scope.selects("pg-orders")
    assert not scope.selects("pg-test")
    assert scope.selects("orders(sink")  # not a regex: matched by name
    assert scope.selects("exact.name")
    assert not scope.selects("xpg-orders")
    assert not scope.selects("other")


def test_format_key_path() -> None:
    assert format_key_path(("topics", "include", 2)) == "topics.include[2]"
    assert format_key_path(()) == "(top level)"


# --------------------------------------------------------------------------- template


def test_template_loads_and_points_at_sandbox(tmp_path: Path) -> None:
    path = write_template(tmp_path / "connshift.yaml")
    assert path.read_text(encoding="utf-8") == template_text()
    spec = load_spec(path, env={})
    assert spec.source.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert spec.source.connect is not None
    assert spec.source.connect.url == "http://127.0.0.1:18083"
    assert spec.destination.kafka.bootstrap_servers == "127.0.0.1:29092"
    assert spec.destination.connect is not None
    assert spec.destination.connect.url == "http://127.0.0.1:28083"
    assert "${env:" in template_text()  # shows the secret form
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_template_explains_every_key() -> None:
    text = template_text()
    for key in (
        "bootstrap_servers",
        "security_protocol",
        "sasl",
        "mechanism",
        "tls",
        "ca_file",
        "key_password",
        "client_config",
        "connect",
        "auth",
        "connectors",
        "include",
        "exclude",
        "rename",
        "prefix",
        "state_dir",
        "token_endpoint_url",
    ):
        assert key in text, key


def test_write_template_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "connshift.yaml"
    path.write_text("mine\n")
    with pytest.raises(ConfigError) as info:
        write_template(path)
    assert info.value.exit_code == 2
    assert "already exists" in info.value.what
    assert info.value.fix and "--force" in info.value.fix
    assert path.read_text() == "mine\n"
    write_template(path, force=True)
    assert path.read_text(encoding="utf-8") == template_text()
    assert sorted(os.listdir(tmp_path)) == ["connshift.yaml"]  # no temp file left


def test_write_template_creates_parent(tmp_path: Path) -> None:
    path = write_template(tmp_path / "a" / "b" / "spec.yaml")
    assert load_spec(path, env={}).state_dir == str(tmp_path / "a" / "b" / ".connshift")


# --------------------------------------------------------------------------- sandbox


def test_sandbox_spec_yaml_loads(tmp_path: Path) -> None:
    text = sandbox_spec_yaml(
        "127.0.0.1:19092",
        "http://127.0.0.1:18083",
        "127.0.0.1:29092",
        "http://127.0.0.1:28083",
        "127.0.0.1:39092",
        str(tmp_path / "state"),
    )
    assert "127.0.0.1:39092" in text
    spec = load_spec(write(tmp_path, text), env={})
    assert spec.name == "sandbox"
    assert spec.source.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert spec.source.connect is not None
    assert spec.source.connect.url == "http://127.0.0.1:18083"
    assert spec.destination.kafka.bootstrap_servers == "127.0.0.1:29092"
    assert spec.destination.connect is not None
    assert spec.destination.connect.url == "http://127.0.0.1:28083"
    assert spec.state_dir == str(tmp_path / "state")


def test_sandbox_spec_yaml_accepts_bare_ports(tmp_path: Path) -> None:
    text = sandbox_spec_yaml("1", "2", "3", "4", None, "st")
    assert "tansu" not in text
    spec = parse_spec_text(text, base_dir=tmp_path, env={})
    assert spec.source.kafka.bootstrap_servers == "127.0.0.1:1"
    assert spec.destination.connect is not None
    assert spec.destination.connect.url == "http://127.0.0.1:4"
    assert spec.state_dir == str(tmp_path / "st")


def test_the_package_re_exports_each_module_s_names() -> None:
    import connshift.core.spec as spec_pkg
    from connshift.core.spec import models, parse, properties, references, sandbox_text

    for name in spec_pkg.__all__:
        assert getattr(spec_pkg, name) is not None, name
    assert spec_pkg.Spec is models.Spec
    assert spec_pkg.parse_spec is parse.parse_spec
    assert spec_pkg.parse_properties is properties.parse_properties
    assert spec_pkg.resolve_references is references.resolve_references
    assert spec_pkg.find_references is references.find_references
    assert spec_pkg.sandbox_spec_yaml is sandbox_text.sandbox_spec_yaml
