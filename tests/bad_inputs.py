# ruff: noqa: E501 -- a data table: one case per line reads best
"""The bad inputs connshift is tried with, and what each gets: the one table that the tests
(``tests/unit/test_bad_inputs_cli.py``, ``tests/integration/test_bad_inputs.py``) run and
``docs/bad-inputs.md`` shows (``python -m tests.bad_inputs > docs/bad-inputs.md``; a unit
test keeps the two equal)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One bad input: ``id`` (the test's id), what was given, the command, the exit code,
    what connshift answers, the test tier, and whether it changed anything."""

    id: str
    given: str
    command: str
    exit: int
    gets: str
    tier: str  # unit (no service) | integration (the sandbox)


U, IT = "unit", "integration"

CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ the spec
    Case(
        "spec-missing",
        "no spec file at the -c path",
        "check",
        2,
        "`spec file not found: PATH` — create one with `connshift init` or pass -c",
        U,
    ),
    Case(
        "spec-yaml-syntax",
        "a YAML syntax error",
        "check",
        2,
        "`PATH: not valid YAML at line L, column C: …` — fix the YAML syntax",
        U,
    ),
    Case(
        "spec-empty",
        "an empty spec file",
        "check",
        2,
        "`PATH: the spec is empty` — start from `connshift init`",
        U,
    ),
    Case(
        "spec-version",
        "`version: 2`",
        "check",
        2,
        "`version: unsupported spec version 2; this connshift reads 1`",
        U,
    ),
    Case(
        "spec-unknown-key",
        "a misspelt key (`topicz:`)",
        "check",
        2,
        "`topicz: unknown key (did you mean 'topics'?)`",
        U,
    ),
    Case(
        "spec-bad-regex",
        '`topics.include: ["("]`',
        "check",
        2,
        "`topics.include[0]: not a valid regex: '(' (…)`",
        U,
    ),
    Case(
        "spec-negative-number",
        "`cutover.catch_up_timeout_seconds: -5`",
        "check",
        2,
        "`cutover.catch_up_timeout_seconds: input should be greater than 0`",
        U,
    ),
    Case(
        "spec-bad-name",
        "`name: my migration` (a space)",
        "check",
        2,
        "`name: must be 1-128 letters, digits, '.', '_' or '-'`",
        U,
    ),
    Case(
        "spec-env-unset",
        "`${env:NAME}` with NAME not set",
        "check",
        2,
        "`…: environment variable NAME is not set` — export it, or change the reference",
        U,
    ),
    Case(
        "spec-file-missing",
        "`${file:/no/such.properties:key}`",
        "check",
        2,
        "`…: cannot read /no/such.properties: No such file or directory`",
        U,
    ),
    Case(
        "spec-sasl-missing",
        "`security_protocol: SASL_SSL` without `sasl`",
        "check",
        2,
        "`source.kafka.sasl: required when security_protocol is SASL_SSL`",
        U,
    ),
    Case(
        "spec-connect-url-no-scheme",
        "`connect.url: connect:8083` (no http://)",
        "check",
        2,
        "`source.connect.url: must be an http:// or https:// URL`",
        U,
    ),
    Case(
        "spec-rename-unselected",
        "`topics.rename` of a topic `topics.include` does not select",
        "check",
        2,
        "`topics.rename.T: this topic is not selected by topics.include/exclude`",
        U,
    ),
    Case(
        "spec-same-cluster",
        "source and destination naming one cluster (`localhost:P` and `127.0.0.1:P`; or two listeners of one cluster)",
        "sync",
        2,
        "`source and destination are the same Kafka cluster (127.0.0.1:P): every topic would be copied onto itself` — before any I/O by address, after connecting by cluster id; `check` and `probe` still take such a spec (new: not detected)",
        U,
    ),
    Case(
        "spec-same-connect",
        "source and destination Connect URLs naming one Connect cluster",
        "cutover",
        2,
        "`source.connect.url and destination.connect.url name one Connect cluster (URL): a connector cannot be moved onto the workers it runs on` (new; `cutover --repoint-workers` keeps taking one URL)",
        U,
    ),
    Case(
        "state-dir-is-a-file",
        "`state_dir` naming a file",
        "sync",
        2,
        "`cannot open the sync state at …: File exists` — state_dir must be a writable directory",
        U,
    ),
    # ------------------------------------------------------------------ the command line
    Case(
        "engine-bogus",
        "`sync --engine bogus`",
        "sync",
        2,
        "`unknown --engine 'bogus'` — use auto, raw or record",
        U,
    ),
    Case(
        "once-and-follow",
        "`sync --once --follow`",
        "sync",
        2,
        "`--once and --follow exclude each other`",
        U,
    ),
    Case(
        "unknown-flag",
        "`sync --bogus`",
        "sync",
        2,
        "`No such option: --bogus (see `connshift sync --help`)`",
        U,
    ),
    Case(
        "topics-bad-regex",
        "`sync --topics '('`",
        "sync",
        2,
        "`bad --topics regex '('` — now before any cluster is asked (was: exit 3 when a cluster was down)",
        U,
    ),
    Case(
        "groups-bad-regex",
        "`groups translate --groups '('`",
        "groups",
        2,
        "`bad --groups regex '('`",
        U,
    ),
    Case(
        "strategy-bogus",
        "`plan --strategy bogus`",
        "plan",
        2,
        "`unknown --strategy 'bogus'` — use resume, fresh or snapshot",
        U,
    ),
    Case(
        "no-connect-in-spec",
        "`cutover` with a spec that has no `source.connect`",
        "cutover",
        2,
        "`the spec has no source.connect` — add source.connect.url",
        U,
    ),
    Case(
        "plan-file-not-json",
        "`cutover --plan` a file that is not JSON",
        "cutover",
        2,
        "`cannot read the plan PATH: …`",
        U,
    ),
    Case(
        "plan-file-not-a-plan",
        "`cutover --plan` a JSON file that is not a plan",
        "cutover",
        2,
        "`PATH is not a connshift plan` (new: was read as an empty plan)",
        U,
    ),
    Case(
        "plan-from-other-spec",
        "`cutover --plan` a plan.json written with another spec",
        "cutover",
        2,
        "`PATH was planned for spec 'a', but -c names spec 'b'` (new); a plan whose destination topics differ from this spec's is refused the same way",
        U,
    ),
    Case(
        "rollback-nothing",
        "`rollback C` with nothing cut over",
        "rollback",
        1,
        "`connector C has no cutover to roll back` — `connshift status` shows the journal",
        U,
    ),
    Case(
        "unreachable-kafka",
        "a bootstrap address where nothing listens",
        "check",
        3,
        "`could not reach the source Kafka cluster at H:P: …` — check bootstrap_servers",
        U,
    ),
    Case(
        "unreachable-connect",
        "a Connect URL where nothing listens",
        "plan",
        3,
        "`could not reach the source Connect worker at URL`",
        U,
    ),
    Case(
        "sync-db-corrupt-unit",
        "`sync.db` overwritten with garbage or truncated",
        "(state store)",
        0,
        "set aside as `sync.db.corrupt-<time>`, a fresh state made (new; was: exit 2, refused)",
        U,
    ),
    # ------------------------------------------------------------------ against the sandbox
    Case(
        "http-port-as-kafka",
        "a Connect (HTTP) port as the destination's bootstrap_servers",
        "check",
        3,
        "`could not reach the destination Kafka cluster at H:P: H:P answers HTTP, not the Kafka protocol — … that is a web port (Kafka Connect's REST API, a schema registry?)` after the usual 10 s (new: was only librdkafka's 'timed out waiting for controller')",
        IT,
    ),
    Case(
        "kafka-port-as-connect",
        "a Kafka port as the source Connect URL",
        "plan",
        3,
        "`could not reach the source Connect worker at URL` (the broker closes the connection)",
        IT,
    ),
    Case(
        "connect-wrong-path",
        "a Connect URL with a wrong path (`…:18083/nope`)",
        "plan",
        3,
        "`the source Connect worker at URL refused GET /connectors: HTTP 404 Not Found — every Kafka Connect worker answers GET /connectors: check the source Connect URL …` (new fix: was 'a Connect version too old')",
        IT,
    ),
    Case(
        "connector-not-found",
        "`cutover no-such-connector`",
        "cutover",
        1,
        "`connector no-such-connector not found on the source Connect cluster` (it lists those it has)",
        IT,
    ),
    Case(
        "validate-before-sync",
        "`validate` of a topic never synced",
        "validate",
        1,
        "`stream.copied` FAIL: not copied: sync has no offset map for this partition",
        IT,
    ),
    Case(
        "dst-topic-foreign-data",
        "a destination topic of the same name that already holds other records",
        "sync",
        1,
        "`destination partition T[0] already holds N records that are not a connshift copy`; left untouched",
        IT,
    ),
    Case(
        "dst-fewer-partitions",
        "a destination topic with fewer partitions than the source",
        "sync",
        1,
        "`destination topic T has 1 partitions, the source has 3`",
        IT,
    ),
    Case(
        "rename-collision",
        "`topics.rename: {A: B}` while B is also a selected source topic",
        "sync",
        2,
        "`source topics … and … would both be copied to B` (new: was copied into one partition, records mixed)",
        IT,
    ),
    Case(
        "sync-db-deleted",
        "`sync.db` deleted between two syncs",
        "sync",
        0,
        "maps taken from `connshift.offset-maps`: resumes exactly, nothing copied twice, `validate` passes",
        IT,
    ),
    Case(
        "sync-db-corrupted",
        "`sync.db` overwritten with garbage between two syncs",
        "sync",
        0,
        "one `warning:` line, the file kept aside, maps from `connshift.offset-maps`: nothing copied twice (new)",
        IT,
    ),
    Case(
        "offset-maps-lost",
        "the migration's maps gone from `connshift.offset-maps` (sync.db kept)",
        "sync",
        0,
        "resumes from sync.db and publishes the maps again (new)",
        IT,
    ),
    Case(
        "state-and-maps-lost",
        "both `sync.db` and the maps lost, destination holding the copy",
        "sync",
        1,
        "`… already holds N records that are not a connshift copy`; left untouched",
        IT,
    ),
    Case(
        "group-past-end",
        "a group whose committed offset is past the source partition's end",
        "groups apply",
        1,
        "`group G was not applied …: T[0]@1000 is past the end of T[0] (high watermark 10)` (new: was 'run sync first', and a group with no offset inside the copy was skipped, exit 0)",
        IT,
    ),
    # ------------------------------------------------------------------ connectors (sandbox)
    Case(
        "cutover-already-moved",
        "`cutover` of a connector another machine (another journal) already moved",
        "cutover",
        1,
        "`connector C already exists on the destination …`; both sides as they were (STOPPED on the source, RUNNING on the destination)",
        IT,
    ),
    Case(
        "cutover-rerun-when-done",
        "`cutover` again of a connector this journal moved",
        "cutover",
        1,
        "`connector C is already cut over: attempt N in the journal finished at T` — `connshift rollback C` undoes it; nothing changes (new: a second attempt was opened and failed preflight, and `rollback` then undid that empty attempt instead of the move)",
        IT,
    ),
    Case(
        "rollback-after-spec-changed",
        "the spec's `topics.prefix` changed between cutover and rollback",
        "rollback",
        0,
        "the journaled plan is undone, not the new spec's: the connector RUNNING on the source only, no topic of the new prefix made",
        IT,
    ),
    Case(
        "rollback-twice",
        "`rollback` again after a rollback",
        "rollback",
        1,
        "`connector C has no cutover to roll back`; nothing changes",
        IT,
    ),
    Case(
        "connector-without-offsets",
        "`cutover` (strategy resume) of a connector with no offsets on the source (never committed, or its offsets topic / sink group lost them)",
        "cutover",
        1,
        "`connector C has no offsets on the source to resume from` — plan it `--strategy fresh` if that is meant; the source connector, stopped to read its flushed offsets, is resumed and the attempt closed (new: was moved, starting from scratch on the destination)",
        IT,
    ),
)


def table() -> str:
    """``docs/bad-inputs.md``."""
    lines = [
        "# Bad input: what each gets",
        "",
        "Generated from `tests/bad_inputs.py` (`python -m tests.bad_inputs > docs/bad-inputs.md`);",
        "every row is a test of that id (`tests/unit/test_bad_inputs_cli.py` without services,",
        "`tests/integration/test_bad_inputs.py` on the sandbox). Every refusal is one line on",
        "stderr, `error: what: why — fix`, no traceback, and changes nothing on either cluster",
        "(`validate`'s finding is its report, exit 1, as for any failed check).",
        "Exit codes: 0 ok, 1 a check failed or a step was refused, 2 usage or config error,",
        '3 a cluster or service could not be reached or refused us. "(new)" marks what the',
        "branch that added this table changed.",
        "",
        "| id | given | command | exit | what connshift says / does | tier |",
        "|---|---|---|---|---|---|",
    ]
    for c in CASES:
        given = c.given.replace("|", "\\|")
        gets = c.gets.replace("|", "\\|")
        lines.append(f"| `{c.id}` | {given} | `{c.command}` | {c.exit} | {gets} | {c.tier} |")
    return "\n".join(lines) + "\n"


def by_id(tier: str) -> dict[str, Case]:
    return {c.id: c for c in CASES if c.tier == tier}


if __name__ == "__main__":
    print(table(), end="")
