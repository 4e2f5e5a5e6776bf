#!/usr/bin/env bash
# Checks the prerequisites of `make demo` / `make test`: Python >= 3.10 and Java 17+, and
# Chromium for the test that renders `stream-scorer report` in a real browser, and Azurite (npm)
# for the tests of a model store on Azure Blob Storage.
# A missing JDK or Chromium is installed from Debian's packages when we are root with apt-get;
# otherwise a missing JDK stops us with a message that says what to install, and a missing
# Chromium only warns (its test then installs it or skips, saying why).
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

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Chromium not found: installing chromium from Debian's packages (the report's browser test)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "warning: no chromium on PATH: the test that renders the report in a browser will skip" >&2
    echo "         unless it can install it ('apt-get install chromium')." >&2
  fi
fi

# Azurite (Azure Blob Storage's emulator, an npm package) for the tests of a model store on
# abfs://: installed once under AZURITE_HOME, where tests/azure_helpers.py looks. Without npm
# those tests skip, saying why.
AZURITE_VERSION=3.37.0
azurite_home=${AZURITE_HOME:-${HOME:-/root}/.cache/stream-scorer/azurite}
if [ ! -x "$azurite_home/node_modules/.bin/azurite-blob" ] && ! command -v azurite-blob >/dev/null 2>&1; then
  if command -v npm >/dev/null 2>&1; then
    echo "Azurite not found: installing azurite@$AZURITE_VERSION under $azurite_home (npm)"
    mkdir -p "$azurite_home"
    npm install --prefix "$azurite_home" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null \
      || echo "warning: npm could not install Azurite: the abfs:// model store tests will skip." >&2
  else
    echo "warning: no npm on PATH: the abfs:// model store tests will skip (they need Azurite:" >&2
    echo "         'npm install --prefix $azurite_home azurite@$AZURITE_VERSION')." >&2
  fi
fi
