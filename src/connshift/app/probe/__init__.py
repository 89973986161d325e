"""``connshift probe``: the Kafka-API contract a migration relies on, checked on a cluster.

Every check runs on scratch topics under a prefix of its own (``connshift-probe-<id>-``),
with short timeouts, and yields a :class:`~connshift.core.checks.CheckResult`: PASS, FAIL or
SKIP with its evidence — what was sent, what was observed, and the error text the client saw.
A cluster refusing a request makes that check FAIL; it never ends the run. At the end (always,
in a ``finally``) every topic and group with the prefix is deleted, and the ACL the probe
created; what could not be deleted is reported in ``cleanup``.

Decisions worth knowing:

* ``compaction.honoured`` waits at most ``compaction_wait`` seconds (20 by default) for the
  log cleaner, with ``segment.ms`` and ``min.cleanable.dirty.ratio`` set small and a record
  appended every second so the written segment closes. Compaction is asynchronous and a
  cluster may legitimately run its cleaner later, so *not observed within the bound* is a SKIP
  (with what was seen), never a PASS; a compaction that drops or changes the latest record
  of a key is a FAIL. Apache Kafka with ``log.cleaner.backoff.ms=1000`` (the sandbox) passes.
* ``logdirs.describe`` and ``producers.describe`` use connshift's raw client
  (:mod:`connshift.io.kafka_raw`): librdkafka exposes neither DescribeLogDirs nor
  DescribeProducers. The raw client speaks PLAINTEXT, TLS and SASL PLAIN/SCRAM: on clusters
  with another SASL mechanism (OAUTHBEARER, ...) both SKIP.
  A broker that does not list the API in ApiVersions FAILs them.
* ``topics.auto-create`` FAILs when producing to a missing topic does not create it and the
  estate's connectors rely on it, or when no inventory says whether they do; with an
  inventory and no connector relying on it, it SKIPs.
* ``configs.rejected-keys`` FAILs when a config of
  :data:`~connshift.core.probe.COMMON_TOPIC_CONFIGS` is refused, or when the cluster does not
  honour ``validate_only`` (the topic appears: its answers prove nothing); the configs Kafka
  4.0 removed are asked too and only reported (``legacy_rejected``).
* ``acls.api`` creates one ACL for a scratch principal on a scratch topic only when
  ApiVersions lists DescribeAcls, CreateAcls *and* DeleteAcls: the probe never creates what
  it cannot delete (and librdkafka 2.16 aborts the process on tansu 0.6's CreateAcls answer).
  A cluster without an authorizer (SECURITY_DISABLED) SKIPs it.
* A native crash of librdkafka (an assertion) would end the process before the cleanup:
  rerunning the probe does not remove an earlier run's topics; they all start with
  ``connshift-probe-``.

Layout of the package:

* :mod:`~connshift.app.probe.registry`: ``@check("id")`` registers a check function; the
  registry runs them in the order of the catalogue :data:`~connshift.core.probe.CHECKS`;
* :mod:`~connshift.app.probe.context`: :class:`ProbeContext`, what a check works with (the
  cluster, scratch names, topics earlier checks leave, the cleanup), and :class:`ProbeOptions`;
* :mod:`~connshift.app.probe.checks`: the check functions, one module per area;
* :mod:`~connshift.app.probe.runner`: :func:`probe` / :func:`probe_cluster`, which run them,
  turn an exception into a FAIL and add ``needed_by`` (:func:`with_needs`, the one place).

A new check is a function of a :class:`ProbeContext` returning a
:class:`~connshift.core.checks.CheckResult`, decorated ``@check("area.what")`` in a module of
:mod:`~connshift.app.probe.checks`, with its id and what a PASS proves added to
:data:`~connshift.core.probe.CHECKS` (where it runs in the order, and what the matrix lists).
"""

from __future__ import annotations

from connshift.app.probe.context import PREFIX, ProbeContext, ProbeOptions, Reporter
from connshift.app.probe.registry import REGISTRY, Check, Registry, check
from connshift.app.probe.runner import probe, probe_cluster, run_check, run_checks, with_needs
from connshift.core.probe import SCHEMA, ProbeResult

__all__ = [
    "PREFIX",
    "REGISTRY",
    "SCHEMA",
    "Check",
    "ProbeContext",
    "ProbeOptions",
    "ProbeResult",
    "Registry",
    "Reporter",
    "check",
    "probe",
    "probe_cluster",
    "run_check",
    "run_checks",
    "with_needs",
]
