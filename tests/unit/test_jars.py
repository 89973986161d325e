"""The jar cache: where things live, when it is complete, filling it safely, Maven errors.

No Maven and no network: ``_mvn`` is replaced by tiny shell scripts, and every cache
is a temporary directory.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from connshift.errors import ExitCode, SandboxError
from connshift.io.sandbox import jars
from connshift.io.sandbox.jars import (
    CONNECT_FILE_VERSIONS,
    DEBEZIUM_VERSION,
    KAFKA_DESTINATION_VERSION,
    KAFKA_SOURCE_VERSION,
    MARKER,
    OLD_APPINFO,
    SHIM_JAR,
)


def all_dirs(root: Path) -> list[Path]:
    """Every directory ``is_fetched`` expects to be complete."""
    dirs = [root / "jars" / f"kafka-{v}" for v in (KAFKA_SOURCE_VERSION, KAFKA_DESTINATION_VERSION)]
    dirs += [root / "plugins" / f"connect-file-{v}" for v in CONNECT_FILE_VERSIONS.values()]
    dirs.append(root / "plugins" / f"debezium-postgres-{DEBEZIUM_VERSION}")
    dirs.append(jars.jmx_exporter_jar(root).parent)
    return dirs


def complete(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("ok\n")


def fake_mvn(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-mvn"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


def no_mvn() -> str:
    raise AssertionError("Maven must not run")


# ---------------------------------------------------------------------------- cache_dir


def test_cache_dir_honours_connshift_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert jars.cache_dir() == tmp_path / "c"


def test_cache_dir_expands_the_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CONNSHIFT_CACHE", "~/jar-cache")
    assert jars.cache_dir() == tmp_path / "jar-cache"


def test_cache_dir_falls_back_to_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CONNSHIFT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert jars.cache_dir() == tmp_path / "xdg" / "connshift"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert jars.cache_dir() == tmp_path / "home" / ".cache" / "connshift"


# ---------------------------------------------------------------------------- locate


def test_locate_the_source_version(tmp_path: Path) -> None:
    d = jars.locate(KAFKA_SOURCE_VERSION, tmp_path)
    assert d.version == KAFKA_SOURCE_VERSION
    assert d.lib == tmp_path / "jars" / f"kafka-{KAFKA_SOURCE_VERSION}" / "lib"
    assert d.classpath == str(d.lib / "*")
    assert d.major == 3
    assert d.plugin_dirs == (
        tmp_path / "plugins" / f"connect-file-{CONNECT_FILE_VERSIONS[KAFKA_SOURCE_VERSION]}",
        tmp_path / "plugins" / f"debezium-postgres-{DEBEZIUM_VERSION}",
    )


def test_locate_the_destination_uses_its_connect_file_version(tmp_path: Path) -> None:
    d = jars.locate(KAFKA_DESTINATION_VERSION, tmp_path)
    assert d.major == 4
    assert d.plugin_dirs[0] == (
        tmp_path / "plugins" / f"connect-file-{CONNECT_FILE_VERSIONS[KAFKA_DESTINATION_VERSION]}"
    )


def test_locate_defaults_to_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path))
    assert jars.locate("3.1.0").lib == tmp_path / "jars" / "kafka-3.1.0" / "lib"
    # a version without a pinned connect-file uses its own version
    assert jars.locate("3.1.0").plugin_dirs[0] == tmp_path / "plugins" / "connect-file-3.1.0"


# ---------------------------------------------------------------------------- is_fetched


def test_is_fetched_false_on_an_empty_cache(tmp_path: Path) -> None:
    assert jars.is_fetched(tmp_path) is False


def test_is_fetched_true_only_when_every_marker_exists(tmp_path: Path) -> None:
    dirs = all_dirs(tmp_path)
    for d in dirs:
        complete(d)
    assert jars.is_fetched(tmp_path) is True
    (dirs[-1] / MARKER).unlink()  # a directory without its marker is not done
    assert dirs[-1].is_dir()
    assert jars.is_fetched(tmp_path) is False


def test_is_fetched_uses_connshift_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for d in all_dirs(tmp_path):
        complete(d)
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path))
    assert jars.is_fetched() is True
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "elsewhere"))
    assert jars.is_fetched() is False


# ---------------------------------------------------------------------------- _fill


def test_fill_renames_a_filled_temp_dir_into_place(tmp_path: Path) -> None:
    target = tmp_path / "plugins" / "thing-1.0"

    def fill(tmp: Path) -> None:
        assert tmp.parent == target.parent
        assert tmp != target
        (tmp / "a.jar").write_text("jar")

    assert jars._fill(target, fill) == target
    assert (target / "a.jar").read_text() == "jar"
    assert (target / MARKER).is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["thing-1.0"]


def test_fill_leaves_nothing_when_the_fill_fails(tmp_path: Path) -> None:
    target = tmp_path / "plugins" / "thing-1.0"

    def fill(tmp: Path) -> None:
        (tmp / "half.jar").write_text("half")
        raise SandboxError("boom")

    with pytest.raises(SandboxError, match="boom"):
        jars._fill(target, fill)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no temporary sibling either


def test_fill_skips_work_when_the_marker_exists(tmp_path: Path) -> None:
    target = tmp_path / "thing"
    complete(target)
    (target / "kept.jar").write_text("old")

    def fill(tmp: Path) -> None:
        raise AssertionError("must not refill a complete directory")

    assert jars._fill(target, fill) == target
    assert (target / "kept.jar").read_text() == "old"


def test_fill_replaces_an_incomplete_directory(tmp_path: Path) -> None:
    target = tmp_path / "thing"
    target.mkdir()
    (target / "stale.jar").write_text("half")  # an interrupted earlier fill, no marker

    jars._fill(target, lambda tmp: (tmp / "new.jar").write_text("new"))
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "new.jar"]


# ---------------------------------------------------------------------------- _run_mvn / _mvn


def test_run_mvn_maps_a_failure_to_sandbox_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = fake_mvn(tmp_path, 'echo "[INFO] Scanning"\necho "[ERROR] boom" >&2\nexit 1\n')
    monkeypatch.setattr(jars, "_mvn", lambda: script)
    with pytest.raises(SandboxError) as info:
        jars._run_mvn(["dependency:copy"], "connect-file 9.9")
    err = info.value
    assert err.exit_code == ExitCode.UNREACHABLE
    assert err.what == "could not resolve connect-file 9.9 from Maven Central"
    assert err.why == "[ERROR] boom"
    assert "sandbox fetch" in (err.fix or "")


def test_run_mvn_without_error_lines_reports_the_exit_status(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = fake_mvn(tmp_path, "echo nothing useful\nexit 7\n")
    monkeypatch.setattr(jars, "_mvn", lambda: script)
    with pytest.raises(SandboxError) as info:
        jars._run_mvn([], "x")
    assert info.value.why == "mvn exited with 7"


def test_run_mvn_passes_batch_quiet_and_the_arguments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args_file = tmp_path / "args"
    script = fake_mvn(tmp_path, f'printf "%s\\n" "$@" > "{args_file}"\n')
    monkeypatch.setattr(jars, "_mvn", lambda: script)
    jars._run_mvn(["-f", "pom.xml", "-Dx=1"], "x")
    assert args_file.read_text().splitlines() == ["-B", "-q", "-f", "pom.xml", "-Dx=1"]


def test_mvn_missing_is_a_sandbox_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxError) as info:
        jars._mvn()
    assert "Maven (mvn) is not installed" in info.value.what
    assert "make setup" in (info.value.fix or "")


def test_fill_through_a_failing_mvn_leaves_the_cache_empty(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(jars, "_mvn", lambda: fake_mvn(tmp_path, 'echo "[ERROR] no net"\nexit 1\n'))
    root = tmp_path / "cache"
    with pytest.raises(SandboxError, match="no net"):
        jars._connect_file("9.9.9", root)
    assert list((root / "plugins").iterdir()) == []
    assert jars.is_fetched(root) is False


def test_fetch_on_a_complete_cache_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(jars, "_mvn", no_mvn)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no javac either
    for d in all_dirs(tmp_path):
        complete(d)
    dst_cf = CONNECT_FILE_VERSIONS[KAFKA_DESTINATION_VERSION]
    shim = tmp_path / "plugins" / f"connect-file-{dst_cf}" / "connect-file" / SHIM_JAR
    shim.parent.mkdir(parents=True)
    shim.write_bytes(b"")

    dists = jars.fetch_all(tmp_path)
    assert set(dists) == {"source", "destination"}
    assert dists["source"] == jars.locate(KAFKA_SOURCE_VERSION, tmp_path)
    assert dists["destination"] == jars.locate(KAFKA_DESTINATION_VERSION, tmp_path)


# ---------------------------------------------------------------------------- AppInfoParser shim


def make_jar(path: Path, *names: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, b"\xca\xfe\xba\xbe")
    return path


def test_has_old_appinfo_true_when_clients_jar_has_the_class(tmp_path: Path) -> None:
    make_jar(tmp_path / "kafka-clients-3.9.2.jar", OLD_APPINFO, "org/apache/kafka/Other.class")
    make_jar(tmp_path / "other.jar")
    assert jars._has_old_appinfo(tmp_path) is True


def test_has_old_appinfo_false_when_the_class_moved(tmp_path: Path) -> None:
    make_jar(
        tmp_path / "kafka-clients-4.4.0.jar",
        "org/apache/kafka/common/utils/internals/AppInfoParser.class",
    )
    make_jar(tmp_path / "kafka-other.jar", OLD_APPINFO)  # not the clients jar
    assert jars._has_old_appinfo(tmp_path) is False


def test_has_old_appinfo_without_a_clients_jar_needs_no_shim(tmp_path: Path) -> None:
    assert jars._has_old_appinfo(tmp_path) is True


def test_appinfo_shim_not_needed_when_the_class_is_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # would raise "javac missing"
    lib = tmp_path / "lib"
    make_jar(lib / "kafka-clients-3.9.2.jar", OLD_APPINFO)
    jars._appinfo_shim(lib, tmp_path / "cf")
    assert not (tmp_path / "cf" / "connect-file" / SHIM_JAR).exists()


def test_appinfo_shim_needs_javac_when_the_class_moved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    lib = tmp_path / "lib"
    make_jar(lib / "kafka-clients-4.4.0.jar", "org/apache/kafka/Other.class")
    with pytest.raises(SandboxError, match="javac is not installed"):
        jars._appinfo_shim(lib, tmp_path / "cf")


def test_fetch_jmx_exporter_asks_maven_for_the_pinned_agent_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args_file = tmp_path / "args"
    script = fake_mvn(tmp_path, f'printf "%s\\n" "$@" >> "{args_file}"\n')
    monkeypatch.setattr(jars, "_mvn", lambda: script)
    root = tmp_path / "cache"
    jar = jars.fetch_jmx_exporter(root)
    assert jar == jars.jmx_exporter_jar(root)
    assert jar.name == f"jmx_prometheus_javaagent-{jars.JMX_EXPORTER_VERSION}.jar"
    artifact = f"-Dartifact=io.prometheus.jmx:jmx_prometheus_javaagent:{jars.JMX_EXPORTER_VERSION}"
    assert artifact in args_file.read_text().splitlines()
    assert (jar.parent / MARKER).is_file()
    jars.fetch_jmx_exporter(root)  # complete: Maven is not asked again
    assert args_file.read_text().count(artifact) == 1
