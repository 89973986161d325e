"""A connector cutover as data: its shape, its offset strategy, its ordered steps.

Pure: the inputs are a connector's class, config and topics as the source Connect
cluster reports them. A :class:`ConnectorPlan` lists the steps ``cutover`` runs,
each with the step that undoes it, and the destination config (topics renamed the
way sync names them). ``plan.json`` is this, versioned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PLAN_SCHEMA = "connshift.plan/1"


class Shape(StrEnum):
    """What kind of connector this is, as far as moving it goes."""

    CDC_SOURCE = "cdc-source"  # reads a database log (Debezium): one reader at a time
    SOURCE = "source"  # polling / file source: positions are its own
    SINK = "sink"  # reads topics through a consumer group (connect-<name>)


class Strategy(StrEnum):
    """Where the destination connector starts reading."""

    RESUME = "resume"  # from the migrated offsets (default)
    FRESH = "fresh"  # from nothing: a source starts anew, a sink from its consumer default
    SNAPSHOT = "snapshot"  # a CDC source takes a new controlled snapshot


class Step(StrEnum):
    """The ordered steps of one connector's cutover."""

    PREFLIGHT = "preflight"
    STOP_SOURCE = "stop-source"
    READ_OFFSETS = "read-offsets"
    CATCH_UP = "catch-up"
    CREATE_STOPPED = "create-stopped"
    WRITE_OFFSETS = "write-offsets"
    RESUME = "resume"
    VERIFY = "verify"


class Undo(StrEnum):
    """The steps that undo a cutover (a rollback), each the reverse of a cutover step."""

    STOP_DESTINATION = "stop-destination"
    READ_DESTINATION_OFFSETS = "read-destination-offsets"
    COPY_BACK = "copy-back"
    WRITE_SOURCE_OFFSETS = "write-source-offsets"
    DELETE_DESTINATION = "delete-destination"
    RESUME_SOURCE = "resume-source"


#: each cutover step and the steps that undo it, in order (none: nothing to undo). A
#: rollback runs, newest cutover step first, the undo of every step the attempt started.
UNDO: dict[Step, tuple[Undo, ...]] = {
    Step.PREFLIGHT: (),
    Step.STOP_SOURCE: (Undo.RESUME_SOURCE,),
    Step.READ_OFFSETS: (),
    Step.CATCH_UP: (),  # the copy is kept
    Step.CREATE_STOPPED: (Undo.DELETE_DESTINATION,),
    Step.WRITE_OFFSETS: (Undo.WRITE_SOURCE_OFFSETS,),
    Step.RESUME: (Undo.STOP_DESTINATION, Undo.READ_DESTINATION_OFFSETS, Undo.COPY_BACK),
    Step.VERIFY: (),
}

#: what each undo step does
UNDO_DOES: dict[Undo, str] = {
    Undo.STOP_DESTINATION: "stop the destination connector",
    Undo.READ_DESTINATION_OFFSETS: "read the destination connector's offsets",
    Undo.COPY_BACK: "copy back to the source topics what it produced on the destination",
    Undo.WRITE_SOURCE_OFFSETS: "write its positions to the source connector "
    "(sinks: translated back through sync's map)",
    Undo.DELETE_DESTINATION: "delete the destination connector",
    Undo.RESUME_SOURCE: "resume the source connector",
}


def undo_text(step: Step) -> str:
    """How ``step`` is undone, in words (from :data:`UNDO`)."""
    undo = UNDO[step]
    if not undo:
        return "nothing to undo" + (" (the copy is kept)" if step is Step.CATCH_UP else "")
    return "; ".join(UNDO_DOES[u] for u in undo)


STEPS: tuple[Step, ...] = tuple(Step)

#: connector classes whose source is a database log with a single reader
CDC_PREFIXES = ("io.debezium.connector.",)

#: config keys naming the topics a connector writes or reads
TOPIC_KEYS = ("topic", "topics", "kafka.topic", "topic.name")


def shape_of(class_name: str, connector_type: str) -> Shape:
    """The connector's shape from its class and the type Connect reports."""
    if connector_type == "sink":
        return Shape.SINK
    if class_name.startswith(CDC_PREFIXES):
        return Shape.CDC_SOURCE
    return Shape.SOURCE


def map_config(
    config: Mapping[str, str],
    destination_topic: Callable[[str], str],
    topic_prefix: str,
    destination_bootstrap: str | None = None,
) -> dict[str, str]:
    """The destination connector's config: topic names as sync names them.

    ``topic``/``topics`` (and ``kafka.topic``, ``topic.name``) are renamed topic by
    topic; a Debezium ``topic.prefix`` gets the spec's topic prefix; client overrides
    that name a bootstrap (``producer.override.bootstrap.servers`` ...) point at the
    destination. Everything else, secrets included, is kept as it is (a
    ``${provider:...}`` reference is resolved by the destination worker).
    """
    out = {k: v for k, v in config.items() if k != "name"}
    for key in TOPIC_KEYS:
        if out.get(key):
            names = [t.strip() for t in out[key].split(",") if t.strip()]
            out[key] = ",".join(destination_topic(t) for t in names)
    if (
        topic_prefix
        and "topic.prefix" in out
        and out.get("connector.class", "").startswith(CDC_PREFIXES)
    ):
        out["topic.prefix"] = topic_prefix + out["topic.prefix"]
    if destination_bootstrap:
        for key in list(out):
            if key.endswith("bootstrap.servers") and "override" in key:
                out[key] = destination_bootstrap
    return out


@dataclass(frozen=True)
class PlannedStep:
    """One step and how it is undone."""

    step: Step
    does: str
    undo: str

    def to_json(self) -> dict[str, str]:
        return {"step": str(self.step), "does": self.does, "undo": self.undo}


def describe(step: Step, name: str, shape: Shape, strategy: Strategy) -> str:
    offsets = {
        Shape.SINK: "its consumer group's offsets translated exactly through sync's map",
        Shape.CDC_SOURCE: "the same upstream positions (LSN)",
        Shape.SOURCE: "the same source positions",
    }[shape]
    return {
        Step.PREFLIGHT: f"check {name}: plugin on the destination worker, config validates "
        "there, its topics exist and are synced, Connect versions support offsets",
        Step.STOP_SOURCE: f"PUT /connectors/{name}/stop on the source; wait for STOPPED",
        Step.READ_OFFSETS: f"GET /connectors/{name}/offsets on the source; journal them",
        Step.CATCH_UP: "sync its topics to the end (bounded wait; on timeout resume the source)",
        Step.CREATE_STOPPED: f"create {name} on the destination with initial_state STOPPED",
        Step.WRITE_OFFSETS: (
            f"PATCH /connectors/{name}/offsets on the destination: {offsets}"
            if strategy is Strategy.RESUME
            else f"no offsets written ({strategy})"
        ),
        Step.RESUME: f"PUT /connectors/{name}/resume on the destination; wait for RUNNING tasks",
        Step.VERIFY: "check the first new records follow the last old ones (no re-read, no gap)",
    }[step]


@dataclass
class ConnectorPlan:
    """How one connector moves."""

    name: str
    class_name: str
    shape: Shape
    strategy: Strategy
    #: each topic it writes (sources) or reads (sinks) on the source cluster -> its copy
    topic_map: dict[str, str]
    groups: list[str]
    destination_config: dict[str, str]
    steps: list[PlannedStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        """The source topics, sorted."""
        return sorted(self.topic_map)

    @property
    def destination_topics(self) -> list[str]:
        """Their destination names, in the order of :attr:`topics` (pairwise)."""
        return [self.topic_map[t] for t in self.topics]

    def source_topic(self, destination_topic: str) -> str | None:
        """The source topic copied to ``destination_topic`` (None: not one of this plan's)."""
        back = {d: s for s, d in self.topic_map.items()}
        return back.get(destination_topic)

    def to_json(self, redact: Callable[[Mapping[str, str]], dict[str, str]]) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": self.class_name,
            "shape": str(self.shape),
            "strategy": str(self.strategy),
            "topics": self.topics,
            "destination_topics": self.destination_topics,
            "topic_map": dict(sorted(self.topic_map.items())),
            "groups": self.groups,
            "destination_config": redact(self.destination_config),
            "steps": [s.to_json() for s in self.steps],
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectorPlan:
        """A plan as :meth:`to_json` wrote it (secret values stay redacted)."""
        topic_map = data.get("topic_map")
        if not isinstance(topic_map, dict):  # older plans: two lists, pairwise
            topic_map = dict(zip(data["topics"], data["destination_topics"], strict=True))
        shape, strategy = Shape(data["shape"]), Strategy(data["strategy"])
        name = str(data["name"])
        return cls(
            name=name,
            class_name=str(data["class"]),
            shape=shape,
            strategy=strategy,
            topic_map={str(k): str(v) for k, v in topic_map.items()},
            groups=[str(g) for g in data.get("groups", [])],
            destination_config={str(k): str(v) for k, v in data["destination_config"].items()},
            steps=[PlannedStep(s, describe(s, name, shape, strategy), undo_text(s)) for s in STEPS],
            warnings=[str(w) for w in data.get("warnings", [])],
        )


def plan_connector(
    name: str,
    class_name: str,
    connector_type: str,
    config: Mapping[str, str],
    topics: Sequence[str],
    *,
    destination_topic: Callable[[str], str],
    topic_prefix: str = "",
    strategy: Strategy = Strategy.RESUME,
    destination_bootstrap: str | None = None,
) -> ConnectorPlan:
    """Plan one connector's cutover."""
    shape = shape_of(class_name, connector_type)
    if shape is Shape.SINK and not topics:
        topics = [t.strip() for t in config.get("topics", "").split(",") if t.strip()]
    groups = [f"connect-{name}"] if shape is Shape.SINK else []
    warnings = []
    if shape is Shape.SINK and config.get("topics.regex"):
        warnings.append("topics.regex: the destination reads whatever matches it there")
    if strategy is Strategy.SNAPSHOT and shape is not Shape.CDC_SOURCE:
        warnings.append("snapshot applies to CDC sources only; this connector starts fresh")
    plan = ConnectorPlan(
        name=name,
        class_name=class_name,
        shape=shape,
        strategy=strategy,
        topic_map={t: destination_topic(t) for t in topics},
        groups=groups,
        destination_config=map_config(
            config, destination_topic, topic_prefix, destination_bootstrap
        ),
        warnings=warnings,
    )
    if strategy is Strategy.SNAPSHOT and shape is Shape.CDC_SOURCE:
        plan.destination_config["snapshot.mode"] = "always"
    plan.steps = [PlannedStep(s, describe(s, name, shape, strategy), undo_text(s)) for s in STEPS]
    return plan
