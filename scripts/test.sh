#!/usr/bin/env bash
# The README's test command: installs what the tests need (idempotently), builds the
# dashboard front end and the hub, and runs every test of the workspace.
#
# Suites that need outside services (Mosquitto) run only when their variable is set,
# e.g. MONBAN_TEST_MQTT_URL=mqtt://127.0.0.1:1883 (.ci/run sets it); otherwise they
# print why they are skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# ---- Python peers: pymodbus for tests/e2e/modbus.rs, aiosmtpd for tests/e2e/notify.rs -
# A third-party Modbus server (tests/peers/pymodbus_door.py; TCP, and RTU on a pty) needs
# pymodbus and pyserial (pymodbus' serial server) at exact versions, in a venv of its own
# under target/ (each installed only when missing).
PYMODBUS_VERSION=3.16.1
PYSERIAL_VERSION=3.5
pyenv="$PWD/target/pyenv"
if ! command -v python3 >/dev/null; then
  echo "error: python3 is missing; the Modbus end-to-end tests need it (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: pymodbus $PYMODBUS_VERSION needs Python >= 3.10; python3 is $(python3 --version 2>&1)" >&2
  exit 1
fi
if [ ! -x "$pyenv/bin/python" ] || ! "$pyenv/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "==> creating the Python venv for the pymodbus peer ($pyenv)"
  rm -rf "$pyenv"
  if ! python3 -m venv "$pyenv"; then
    rm -rf "$pyenv"
    echo "error: python3 -m venv failed; the Modbus end-to-end tests need venv with pip (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("pymodbus"))' 2>/dev/null)" != "$PYMODBUS_VERSION" ]; then
  echo "==> installing pymodbus==$PYMODBUS_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "pymodbus==$PYMODBUS_VERSION"
fi
if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("pyserial"))' 2>/dev/null)" != "$PYSERIAL_VERSION" ]; then
  echo "==> installing pyserial==$PYSERIAL_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "pyserial==$PYSERIAL_VERSION"
fi
# aiosmtpd: the SMTP server that receives the hub's notification e-mails in
# tests/e2e/notify.rs (tests/peers/smtp_sink.py), in the same venv.
AIOSMTPD_VERSION=1.4.6
if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("aiosmtpd"))' 2>/dev/null)" != "$AIOSMTPD_VERSION" ]; then
  echo "==> installing aiosmtpd==$AIOSMTPD_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
# PyMuPDF: renders the first page of the inspection report's PDF (printed by Chromium in
# tests/browser/inspection.rs) to a PNG saved with the test output.
PYMUPDF_VERSION=2.0
if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("pymupdf"))' 2>/dev/null)" != "$PYMUPDF_VERSION" ]; then
  echo "==> installing pymupdf==$PYMUPDF_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "pymupdf==$PYMUPDF_VERSION"
fi
export MONBAN_TEST_PYTHON="$pyenv/bin/python"
# ---- end of the Python peers block ----------------------------------------------------

# ---- Chromium for the browser tests (tests/browser) ----------------------------------
# Debian's chromium and chromium-driver (and CJK fonts for the Japanese pages), installed
# with apt only when /usr/bin/chromium or /usr/bin/chromedriver is missing; no browser is
# downloaded any other way. The browser tests run when MONBAN_TEST_CHROMEDRIVER is set.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if ! command -v apt-get >/dev/null; then
    echo "error: Chromium is missing and apt-get is unavailable; the browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "==> installing chromium, chromium-driver and fonts-noto-cjk with apt-get"
  $sudo apt-get update || echo "warning: apt-get update failed; trying the install anyway" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver fonts-noto-cjk
fi
export MONBAN_TEST_CHROMEDRIVER=/usr/bin/chromedriver
# ---- end of the Chromium block -------------------------------------------------------

bash scripts/native-deps.sh
bash scripts/build-web.sh
echo "==> building the workspace (default members: the wasm crate is built by build-web.sh)"
cargo build --all-targets
echo "==> running the tests"
cargo test
