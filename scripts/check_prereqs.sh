#!/usr/bin/env bash
# Checks the prerequisites of `make demo` / `make test`: Python >= 3.10 and Java 17+.
# A missing JDK is installed from Debian's packages when we are root with apt-get;
# otherwise we stop with a message that says what to install.
set -euo pipefail
python=${1:-python3}

if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: '$python' not found. stream-scorer needs Python >= 3.10 (set PYTHON=/path/to/python3)." >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: $("$python" --version 2>&1) is too old: stream-scorer needs Python >= 3.10." >&2
  exit 1
fi
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "error: '$python' lacks venv/ensurepip: install python3-venv." >&2
    exit 1
  fi
fi

java_major() {
  java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Java 17+ not found: installing openjdk-17-jre-headless from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "error: Spark needs Java 17 or newer on PATH (found: $(java -version 2>&1 | head -1 || echo none))." >&2
    echo "       Install a JDK 17 (e.g. 'apt-get install openjdk-17-jre-headless') and retry." >&2
    exit 1
  fi
fi
