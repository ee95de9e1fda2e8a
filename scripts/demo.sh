#!/usr/bin/env bash
# The README's demo command: installs what the demo needs (idempotently), builds the
# dashboard front end and the hub, and runs `monban demo` (arguments are passed on,
# e.g. --listen 127.0.0.1:9090).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/native-deps.sh
bash scripts/build-web.sh
echo "==> building monban"
cargo build -p monban-server --bin monban
exec target/debug/monban demo "$@"
