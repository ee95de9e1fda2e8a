#!/usr/bin/env bash
# The README's test command: installs what the tests need (idempotently), builds the
# dashboard front end and the hub, and runs every test of the workspace.
#
# Suites that need outside services (Mosquitto) run only when their variable is set,
# e.g. MONBAN_TEST_MQTT_URL=mqtt://127.0.0.1:1883 (.ci/run sets it); otherwise they
# print why they are skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build-web.sh
echo "==> building the workspace (default members: the wasm crate is built by build-web.sh)"
cargo build --all-targets
echo "==> running the tests"
cargo test
