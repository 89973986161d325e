"""Resolve the sandbox's Java artifacts from Maven Central into a cache outside the repo.

One cache, reused by every sandbox and every test run:

```
CACHE/jars/kafka-<v>/lib/*.jar               broker, Connect, tools (and MM2 for 3.x)
CACHE/plugins/connect-file-<v>/connect-file/  FileStream connectors (a Connect plugin dir)
CACHE/plugins/debezium-postgres-<v>/debezium-connector-postgres/
CACHE/agents/jmx-exporter-<v>/jmx_prometheus_javaagent-<v>.jar   Connect workers' metrics
```

Each directory is filled in a temporary sibling and renamed into place, with a
``.complete`` marker, so an interrupted fetch never leaves a half-filled cache that
looks done. Versions are pinned here and nowhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from connshift.errors import SandboxError

#: Apache Kafka of the source (self-managed, older) cluster.
KAFKA_SOURCE_VERSION = "3.9.2"
#: Apache Kafka of the destination cluster (the newest served).
KAFKA_DESTINATION_VERSION = "4.4.0"
#: connect-file (FileStream connectors) per worker version. connect-file 4.4.0 is not served
#: by the registry reachable here; 4.3.1 is the newest that is, and runs on a 4.4 worker.
CONNECT_FILE_VERSIONS = {KAFKA_SOURCE_VERSION: "3.9.2", KAFKA_DESTINATION_VERSION: "4.3.1"}
#: Debezium PostgreSQL connector plugin (Java 17+).
DEBEZIUM_VERSION = "3.6.1.Final"
#: Prometheus JMX exporter java agent on the Connect workers (the newest 1.x the registry
#: reachable here serves).
JMX_EXPORTER_VERSION = "1.0.1"
#: Pinned so that the resolution does not depend on Maven's default plugin version.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

MARKER = ".complete"


def cache_dir() -> Path:
    """The artifact cache: ``$CONNSHIFT_CACHE`` or ``~/.cache/connshift``."""
    env = os.environ.get("CONNSHIFT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "connshift"


@dataclass(frozen=True)
class KafkaDist:
    """Where one Kafka version's jars and plugins live."""

    version: str
    lib: Path
    plugin_dirs: tuple[Path, ...]

    @property
    def classpath(self) -> str:
        return str(self.lib / "*")

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def _complete(path: Path) -> bool:
    return (path / MARKER).is_file()


def _mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SandboxError(
            "Maven (mvn) is not installed",
            why="the sandbox resolves Kafka, Connect and Debezium jars from Maven Central",
            fix="run `make setup` (installs Debian's maven package) or `apt-get install maven`",
        )
    return mvn


def _run_mvn(args: list[str], what: str) -> None:
    cmd = [_mvn(), "-B", "-q", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        why = lines[0].strip() if lines else f"mvn exited with {proc.returncode}"
        raise SandboxError(
            f"could not resolve {what} from Maven Central",
            why=why[:300],
            fix="check that Maven Central is reachable and retry `connshift sandbox fetch`",
        )


def _fill(target: Path, fill: Callable[[Path], None]) -> Path:
    """Fill ``target`` through a temporary sibling directory, then rename it into place."""
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        fill(tmp)
        (tmp / MARKER).write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _kafka_lib(version: str, root: Path) -> Path:
    pom = resources.files("connshift") / "resources" / "sandbox" / "pom.xml"
    profile = "kafka3" if version.startswith("3.") else "kafka4"

    def fill(tmp: Path) -> None:
        with resources.as_file(pom) as pom_path:
            _run_mvn(
                [
                    "-f",
                    str(pom_path),
                    f"-Dkafka.version={version}",
                    f"-P{profile}",
                    f"{DEPENDENCY_PLUGIN}:copy-dependencies",
                    f"-DoutputDirectory={tmp / 'lib'}",
                    "-DincludeScope=runtime",
                ],
                f"Apache Kafka {version} jars",
            )

    return _fill(root / "jars" / f"kafka-{version}", fill) / "lib"


def _connect_file(version: str, root: Path) -> Path:
    def fill(tmp: Path) -> None:
        _run_mvn(
            [
                f"{DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact=org.apache.kafka:connect-file:{version}",
                f"-DoutputDirectory={tmp / 'connect-file'}",
            ],
            f"connect-file {version}",
        )

    return _fill(root / "plugins" / f"connect-file-{version}", fill)


def _debezium(version: str, root: Path) -> Path:
    def fill(tmp: Path) -> None:
        _run_mvn(
            [
                f"{DEPENDENCY_PLUGIN}:unpack",
                f"-Dartifact=io.debezium:debezium-connector-postgres:{version}:tar.gz:plugin",
                f"-DoutputDirectory={tmp}",
            ],
            f"Debezium PostgreSQL connector {version}",
        )

    return _fill(root / "plugins" / f"debezium-postgres-{version}", fill)


def jmx_exporter_jar(root: Path | None = None) -> Path:
    """Where the JMX exporter agent jar lives in the cache (fetched or not)."""
    root = root or cache_dir()
    name = f"jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar"
    return root / "agents" / f"jmx-exporter-{JMX_EXPORTER_VERSION}" / name


def fetch_jmx_exporter(root: Path | None = None) -> Path:
    """Resolve (once) the Prometheus JMX exporter java agent; return its jar."""
    root = root or cache_dir()
    jar = jmx_exporter_jar(root)

    def fill(tmp: Path) -> None:
        _run_mvn(
            [
                f"{DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:{JMX_EXPORTER_VERSION}",
                f"-DoutputDirectory={tmp}",
            ],
            f"Prometheus JMX exporter {JMX_EXPORTER_VERSION}",
        )

    _fill(jar.parent, fill)
    return jar


SHIM_JAR = "connshift-appinfo-shim.jar"
OLD_APPINFO = "org/apache/kafka/common/utils/AppInfoParser.class"


def _has_old_appinfo(lib: Path) -> bool:
    for jar in lib.glob("kafka-clients-*.jar"):
        with zipfile.ZipFile(jar) as zf:
            return OLD_APPINFO in zf.namelist()
    return True


def _appinfo_shim(lib: Path, connect_file_dir: Path) -> None:
    """Give connect-file 4.3.x the ``AppInfoParser`` that Kafka 4.4 moved (compiled once)."""
    target = connect_file_dir / "connect-file" / SHIM_JAR
    if target.is_file() or _has_old_appinfo(lib):
        return
    javac = shutil.which("javac")
    if javac is None:
        raise SandboxError(
            "javac is not installed",
            why="connect-file needs a small compatibility class compiled for Kafka 4.4",
            fix="run `make setup` (installs Debian's openjdk-17-jdk-headless)",
        )
    src = resources.files("connshift") / "resources" / "sandbox" / "AppInfoParser.java"
    with tempfile.TemporaryDirectory() as tmp, resources.as_file(src) as src_path:
        pkg = Path(tmp) / "src" / "org" / "apache" / "kafka" / "common" / "utils"
        pkg.mkdir(parents=True)
        shutil.copy(src_path, pkg / "AppInfoParser.java")
        out = Path(tmp) / "out"
        clients = next(iter(lib.glob("kafka-clients-*.jar")))
        proc = subprocess.run(
            [
                javac,
                "--release",
                "17",
                "-cp",
                str(clients),
                "-d",
                str(out),
                str(pkg / "AppInfoParser.java"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SandboxError(
                "could not compile the connect-file compatibility class",
                why=(proc.stderr or proc.stdout).strip()[-300:],
            )
        tmp_jar = target.with_suffix(".tmp")
        with zipfile.ZipFile(tmp_jar, "w") as zf:
            for cls in out.rglob("*.class"):
                zf.write(cls, cls.relative_to(out).as_posix())
        os.replace(tmp_jar, target)


def locate(version: str, root: Path | None = None) -> KafkaDist:
    """Where one version's jars and plugins live in the cache (fetched or not)."""
    root = root or cache_dir()
    plugins = (
        root / "plugins" / f"connect-file-{CONNECT_FILE_VERSIONS.get(version, version)}",
        root / "plugins" / f"debezium-postgres-{DEBEZIUM_VERSION}",
    )
    return KafkaDist(
        version=version, lib=root / "jars" / f"kafka-{version}" / "lib", plugin_dirs=plugins
    )


def fetch(version: str, root: Path | None = None) -> KafkaDist:
    """Resolve (once) and return one Kafka version's jars and its workers' plugin dirs."""
    root = root or cache_dir()
    lib = _kafka_lib(version, root)
    connect_file = _connect_file(CONNECT_FILE_VERSIONS.get(version, version), root)
    _appinfo_shim(lib, connect_file)
    plugins = (connect_file, _debezium(DEBEZIUM_VERSION, root))
    return KafkaDist(version=version, lib=lib, plugin_dirs=plugins)


def fetch_all(root: Path | None = None) -> dict[str, KafkaDist]:
    """Resolve both sandbox Kafka versions (and the workers' JMX exporter agent); keyed by
    ``source``/``destination``."""
    fetch_jmx_exporter(root)
    return {
        "source": fetch(KAFKA_SOURCE_VERSION, root),
        "destination": fetch(KAFKA_DESTINATION_VERSION, root),
    }


def is_fetched(root: Path | None = None) -> bool:
    """True when every artifact of both versions is already in the cache."""
    root = root or cache_dir()
    dirs = [root / "jars" / f"kafka-{v}" for v in (KAFKA_SOURCE_VERSION, KAFKA_DESTINATION_VERSION)]
    dirs += [root / "plugins" / f"connect-file-{v}" for v in CONNECT_FILE_VERSIONS.values()]
    dirs.append(root / "plugins" / f"debezium-postgres-{DEBEZIUM_VERSION}")
    dirs.append(jmx_exporter_jar(root).parent)
    return all(_complete(d) for d in dirs)
