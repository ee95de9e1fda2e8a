#!/usr/bin/env bash
# Fuzzes the running hub against its own OpenAPI description with schemathesis: every
# operation of /api/v1/openapi.json, with valid and invalid data. Every response must
# be documented (status, content type, schema), no 5xx, the hub must still answer
# /healthz afterwards and stop cleanly, and the store must hold nothing half-written.
# The description itself must validate (openapi-spec-validator). Exits non-zero on any
# failure. CI runs it (.ci/run); locally: bash scripts/fuzz-api.sh
#
# Settings (environment): MONBAN_FUZZ_EXAMPLES (test cases per operation and phase,
# default 40), MONBAN_FUZZ_SEED (default 1), MONBAN_BIN (a built `monban`; default
# ${CARGO_TARGET_DIR:-target}/debug/monban, built when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
examples="${MONBAN_FUZZ_EXAMPLES:-40}"
seed="${MONBAN_FUZZ_SEED:-1}"

# ---- schemathesis, in the venv scripts/test.sh creates (target/pyenv) ---------------
pyenv="$root/target/pyenv"
if [ ! -x "$pyenv/bin/python" ] || ! "$pyenv/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "==> creating the Python venv ($pyenv)"
  rm -rf "$pyenv"
  if ! python3 -m venv "$pyenv"; then
    rm -rf "$pyenv"
    echo "error: python3 -m venv failed; schemathesis needs venv with pip (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  echo "==> installing schemathesis==$SCHEMATHESIS_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ "$("$pyenv/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))' 2>/dev/null)" != "$SPEC_VALIDATOR_VERSION" ]; then
  echo "==> installing openapi-spec-validator==$SPEC_VALIDATOR_VERSION into $pyenv"
  "$pyenv/bin/python" -m pip install --quiet --disable-pip-version-check "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
fi

# ---- the hub ------------------------------------------------------------------------
bin="${MONBAN_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/monban}"
if [ -z "${MONBAN_BIN:-}" ]; then
  echo "==> cargo build -p monban-server --bin monban"
  cargo build --quiet -p monban-server --bin monban
fi
[ -x "$bin" ] || { echo "error: $bin is not an executable" >&2; exit 1; }

work="$(mktemp -d)"
hub_pid=""
cleanup() {
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill -TERM "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
config="$work/monban.toml"
# A small inventory (as tests/e2e/harness.rs): the spec's examples name these ids.
# No rate limits: the fuzzer sends as fast as it can from one address.
cat >"$config" <<EOF
[server]
listen = "127.0.0.1:$port"
database = "sqlite://$work/monban.db"
grace = "60s"

[limits]
ingest_per_second = 0
signin_per_minute = 0

[site]
id = "fuzz"
name = "テスト総合病院"

[[rooms]]
id = "ward3"
name = "3F ナースステーション"
controlled = true
max_presence = "12h"
alarm_hold = "15m"

[[doors]]
id = "ward3-main"
room = "ward3"

[[terminals]]
id = "ward3-pc01"
room = "ward3"

[[systems]]
id = "ehr"
name = "電子カルテ"
category = "ehr"
native_mfa = false

[[people]]
id = "p0001"
name = "看護師 一郎"
credentials = ["card:04A1B2C3"]
accounts = { ehr = "nurse01" }

[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01" }

# The access-log upload (POST /api/v1/imports/ehr) reads this mapping.
[[imports]]
system = "ehr"
time = { column = "login_at" }
account = { column = "user_id" }
terminal = { column = "workstation" }
outcome = { column = "status", map = { "OK" = "success", "NG" = "failure" } }
factors = ["password"]
EOF

MONBAN_FUZZ_LOGIN_TOKEN="$("$bin" --config "$config" token issue --system ehr)"
MONBAN_FUZZ_DOOR_TOKEN="$("$bin" --config "$config" token issue --doors)"
MONBAN_FUZZ_READ_TOKEN="$("$bin" --config "$config" token issue --role admin)"
MONBAN_FUZZ_VENDOR_TOKEN="$("$bin" --config "$config" token issue --vendor acme-med)"
export MONBAN_FUZZ_LOGIN_TOKEN MONBAN_FUZZ_DOOR_TOKEN MONBAN_FUZZ_READ_TOKEN MONBAN_FUZZ_VENDOR_TOKEN

echo "==> starting the hub on $base"
RUST_LOG="${RUST_LOG:-warn}" "$bin" --config "$config" serve >"$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 300); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$hub_pid" 2>/dev/null; then
    echo "error: the hub did not start:" >&2
    cat "$work/hub.log" >&2
    exit 1
  fi
  sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null

# ---- the description itself --------------------------------------------------------
echo "==> validating $base/api/v1/openapi.json (openapi-spec-validator $SPEC_VALIDATOR_VERSION)"
curl -fsS "$base/api/v1/openapi.json" -o "$work/openapi.json"
"$pyenv/bin/python" -m openapi_spec_validator "$work/openapi.json"

# ---- schemathesis ---------------------------------------------------------------------
# Checks: every response documented (status, content type, headers, schema), no 5xx,
# invalid data refused with a 4xx, missing tokens refused, unsupported methods 405.
# Not `positive_data_acceptance`: valid-shaped data with ids outside the inventory is
# rightly 422.
checks="not_a_server_error,status_code_conformance,content_type_conformance"
checks="$checks,response_headers_conformance,response_schema_conformance"
checks="$checks,negative_data_rejection,missing_required_header,unsupported_method,ignored_auth"
exclude=()
# `GET /api/v1/session` is documented before its route lands (see src/openapi/tests.rs,
# PENDING): fuzz it once it is routed.
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/session")" = "404" ]; then
  echo "note: GET /api/v1/session is not routed in this build; not fuzzed"
  exclude+=(--exclude-operation-id get_session)
fi
echo "==> schemathesis $SCHEMATHESIS_VERSION against $base/api/v1/openapi.json ($examples examples per operation and phase, seed $seed)"
# The reports stay in target/fuzz-api for a look after a failure.
report_dir="$root/target/fuzz-api"
rm -rf "$report_dir"
status=0
# From the scratch directory: schemathesis keeps a crash cache (.schemathesis/) in its
# working directory.
(cd "$work" && "$pyenv/bin/schemathesis" --no-color --config-file "$root/scripts/fuzz-api.toml" run \
  "$base/api/v1/openapi.json" \
  --checks "$checks" \
  --mode all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$examples" \
  --seed "$seed" \
  --workers 2 \
  --request-timeout 10 \
  --suppress-health-check all \
  --report json,junit --report-dir "$report_dir" \
  "${exclude[@]}") || status=$?

# ---- the hub afterwards ---------------------------------------------------------------
counts="$("$pyenv/bin/python" - "$report_dir" <<'PY'
import json, pathlib, sys
reports = sorted(pathlib.Path(sys.argv[1]).glob("*.json"))
if not reports:
    print("? ? ? ?")
    sys.exit()
data = json.loads(reports[-1].read_text())
cases = data["test_cases"]
errors = len(data.get("errors", []))
print(cases["generated"], cases["with_failures"] + errors, cases["unique_failures"], errors)
PY
)" || counts="? ? ? ?"
read -r cases failures unique errors <<<"$counts"

problems=()
[ "$status" -eq 0 ] || problems+=("schemathesis exited with $status")
[ "$failures" = "0" ] || problems+=("schemathesis: $failures test cases failed or errored")
code="$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" || true)"
[ "$code" = "200" ] || problems+=("/healthz answers $code after fuzzing")
kill -0 "$hub_pid" 2>/dev/null || problems+=("the hub is no longer running")
if grep -E "panicked|internal error" "$work/hub.log" >/dev/null; then
  problems+=("the hub logged a panic or an internal error")
  grep -E "panicked|internal error" "$work/hub.log" | head -n 20 >&2
fi

# Stop it the way an operator does; it must stop cleanly.
kill -TERM "$hub_pid"
stop=0
wait "$hub_pid" || stop=$?
hub_pid=""
[ "$stop" -eq 0 ] || problems+=("the hub exited with $stop on SIGTERM")

# Nothing half-written: the store is consistent, every stored login has its verdict
# history, every used step-up names a stored login.
store_report="$("$pyenv/bin/python" - "$work/monban.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bad = []
if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
    bad.append("integrity_check failed")
n = db.execute("SELECT COUNT(*) FROM logins l WHERE NOT EXISTS (SELECT 1 FROM verdict_changes v WHERE v.event_id = l.event_id)").fetchone()[0]
if n:
    bad.append(f"{n} logins without a verdict history")
n = db.execute("SELECT COUNT(*) FROM step_ups s WHERE s.login IS NOT NULL AND NOT EXISTS (SELECT 1 FROM logins l WHERE l.event_id = s.login)").fetchone()[0]
if n:
    bad.append(f"{n} used step-ups without their login")
logins = db.execute("SELECT COUNT(*) FROM logins").fetchone()[0]
doors = db.execute("SELECT COUNT(*) FROM door_events").fetchone()[0]
print(f"stored: {logins} logins, {doors} door events")
for b in bad:
    print("PROBLEM " + b)
PY
)" || store_report="PROBLEM the store could not be checked"
echo "$store_report" | grep -v '^PROBLEM' || true
while IFS= read -r line; do
  problems+=("${line#PROBLEM }")
done < <(echo "$store_report" | grep '^PROBLEM' || true)

echo "==> schemathesis: $cases test cases, $failures failures ($unique unique, $errors errors)"
if [ "${#problems[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${problems[@]}" >&2
  echo "the hub's log:" >&2
  tail -n 50 "$work/hub.log" >&2
  exit 1
fi
echo "==> the hub stayed up, stopped cleanly, and its store is consistent"
