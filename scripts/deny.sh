#!/usr/bin/env bash
# The supply-chain check (.ci/run runs it): cargo-deny over the workspace's dependency
# graph — licenses (permissive only), bans (no second TLS stack, no wildcard versions),
# sources (crates.io only), by the rules in deny.toml — and, when a copy of the RustSec
# advisory database is on this machine, known vulnerabilities.
#
# Installs cargo-deny (pinned) when it is missing. The advisory database is a git
# repository on GitHub (https://github.com/rustsec/advisory-db), which this machine's
# network does not reach and which no crates.io or PyPI package ships; put a clone at
# $CARGO_HOME/advisory-dbs/advisory-db-* (what `cargo deny fetch` makes) to have the
# advisories checked too, offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO_DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
  echo "==> installing cargo-deny $CARGO_DENY_VERSION"
  cargo install --locked --quiet cargo-deny --version "$CARGO_DENY_VERSION"
fi

echo "==> cargo deny check licenses bans sources"
cargo deny check --hide-inclusion-graph licenses bans sources

dbs="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if compgen -G "$dbs/*/advisories" >/dev/null 2>&1 || compgen -G "$dbs/*/crates" >/dev/null 2>&1; then
  echo "==> cargo deny check advisories (the local database in $dbs, not fetched)"
  cargo deny check --hide-inclusion-graph --disable-fetch advisories
else
  echo "==> advisories skipped: no RustSec advisory database in $dbs, and github.com (where it is published) is not reachable from here; see scripts/deny.sh"
fi
