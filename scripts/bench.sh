#!/usr/bin/env bash
# Benchmark: door events per second (MQTT → stored) and login verdicts per second
# (HTTP) against a release build of the hub, with latency percentiles and the hub's
# peak memory. Results go to stdout as JSON; docs/BENCHMARKS.md records them.
#
#   scripts/bench.sh [DOOR_EVENTS] [LOGINS] [CONCURRENCY] [DOOR_RATE]
#
# DOOR_RATE 0 (the default) publishes as fast as possible: a saturation run, whose
# throughput is the figure and whose latency measures the queue. A paced run (e.g. 200)
# gives the latency of an event when the hub keeps up.
#
# Uses the embedded broker (`monban broker`) unless MONBAN_BENCH_MQTT_URL is set
# (e.g. mqtt://127.0.0.1:1883 for Mosquitto), and SQLite unless MONBAN_BENCH_POSTGRES_URL
# names a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test): the script
# then creates an empty database `monban_bench_<pid>` there and drops it afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
events=${1:-5000}
logins=${2:-2000}
concurrency=${3:-8}
rate=${4:-0}

cargo build --release -p monban-server -p monban-sim
bin=target/release
work=$(mktemp -d)
pids=()
database="sqlite://monban.db"
if [ -n "${MONBAN_BENCH_POSTGRES_URL:-}" ]; then
  bench_db="monban_bench_$$"
  psql "$MONBAN_BENCH_POSTGRES_URL" -qc "CREATE DATABASE $bench_db"
  database="${MONBAN_BENCH_POSTGRES_URL%/*}/$bench_db"
fi
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${bench_db:-}" ]; then
    psql "$MONBAN_BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hub_port=$(free_port)
if [ -n "${MONBAN_BENCH_MQTT_URL:-}" ]; then
  mqtt=$MONBAN_BENCH_MQTT_URL
else
  mqtt_port=$(free_port)
  "$bin/monban" broker --listen "127.0.0.1:$mqtt_port" 2>"$work/broker.log" &
  pids+=($!)
  mqtt="mqtt://127.0.0.1:$mqtt_port"
fi

{
  printf '[server]\nlisten = "127.0.0.1:%s"\ndatabase = "%s"\ngrace = "60s"\n\n' "$hub_port" "$database"
  printf '[mqtt]\nurl = "%s"\nclient_id = "monban-bench-%s"\n\n' "$mqtt" "$$"
  "$bin/monban-sim" hospital --seed 1
} > "$work/monban.toml"
token=$("$bin/monban" --config "$work/monban.toml" token issue --system ehr 2>/dev/null)
read_token=$("$bin/monban" --config "$work/monban.toml" token issue --role auditor 2>/dev/null)
RUST_LOG=warn "$bin/monban" --config "$work/monban.toml" serve 2>"$work/hub.log" &
hub=$!
pids+=($hub)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$hub_port/healthz" >/dev/null && break; sleep 0.1; done

echo "# $(date -u +%FT%TZ) $(nproc) cores; events=$events rate=$rate logins=$logins concurrency=$concurrency broker=$mqtt store=${database%%://*}" >&2
"$bin/monban-sim" load --mqtt "$mqtt" --hub "http://127.0.0.1:$hub_port" --login-token "$token" --read-token "$read_token" \
  --door-events "$events" --door-rate "$rate" --logins "$logins" --concurrency "$concurrency"
echo "hub peak RSS: $(grep VmHWM /proc/$hub/status | awk '{print $2, $3}')" >&2
