#!/usr/bin/env bash
# Install everything connshift, its sandbox and its tests need — idempotent, and quick
# when everything is already there. Called by `make setup` (and so by `make demo`,
# `make test` and .ci/run).
#
#   1. Debian packages: a JDK 17 (java + javac), Maven, PostgreSQL server, Chromium
#      (headless: the test that reads `connshift report` back in a browser)
#   2. .venv/ with connshift installed editable, with its dev and tansu extras
#   3. Kafka, Connect, MirrorMaker 2 and Debezium jars from Maven Central into the cache
#      (~/.cache/connshift, or $CONNSHIFT_CACHE)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
say() { printf '==> %s\n' "$*"; }

# ---------------------------------------------------------------- 1. Debian packages
need=()
command -v java  >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn   >/dev/null 2>&1 || need+=(maven)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "$(id -u)" = 0 ]; then
  command -v runuser >/dev/null 2>&1 || need+=(util-linux)
fi
if [ ${#need[@]} -gt 0 ]; then
  # de-duplicate
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "error: missing Debian packages: ${need[*]}: not root and no sudo — install them, then rerun" >&2
      exit 2
    fi
  fi
  say "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the postgresql package starts a system cluster on 5432; the sandbox runs its own
  if [ -x /usr/sbin/service ] && [ "${need[*]}" != "${need[*]/postgresql/}" ]; then
    $SUDO service postgresql stop >/dev/null 2>&1 || true
  fi
fi

# ---------------------------------------------------------------- 2. Python package
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.connshift-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! "$VENV/bin/python" -c 'import connshift' 2>/dev/null; then
  say "installing connshift (editable) with its dev and tansu extras"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e '.[dev,tansu]'
  echo "$want" > "$stamp"
fi

# ---------------------------------------------------------------- 3. jars (Maven Central)
"$VENV/bin/connshift" sandbox fetch >/dev/null
say "setup complete: $VENV/bin/connshift $("$VENV/bin/connshift" --version | cut -d' ' -f2)"
