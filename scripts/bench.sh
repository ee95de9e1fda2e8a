#!/usr/bin/env bash
# The hub's benchmark (docs/BENCHMARKS.md): builds the release binaries, then runs
# scripts/bench.py, which measures every figure beside its limit in the same run — the
# raw broker's delivery rate next to the hub's (MQTT → stored), the disk's commit rate,
# logins over HTTP at 4 and 32 connections, and the reports over 10 million stored logins
# generated through the writer (compliance, overview, system page, a streamed export of
# a million logins), with the hub's peak memory. JSON on stdout, a readable log on stderr.
#
#   scripts/bench.sh                         # SQLite
#   MONBAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench.sh
#
# Settings: see scripts/bench.py (MONBAN_BENCH_EVENTS, _LOGINS, _CONCURRENCY, _BIG,
# _BIG_PG, _EXPORT, _SKIP). Needs mosquitto and mosquitto-clients (Debian packages).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v mosquitto_pub >/dev/null || ! command -v mosquitto >/dev/null; then
  echo "error: the benchmark needs mosquitto and mosquitto_pub/mosquitto_sub (Debian: apt-get install mosquitto mosquitto-clients)" >&2
  exit 1
fi
cargo build --release -p monban-server -p monban-sim
exec python3 scripts/bench.py
