#!/usr/bin/env bash
# Builds the dashboard's browser bundle into target/site/pkg:
#
#   target/site/pkg/monban_web.js        wasm-bindgen loader (the page imports it)
#   target/site/pkg/monban_web_bg.wasm   the monban-web-hydrate crate
#   target/site/pkg/monban.css           web/style/monban.css
#   target/site/pkg/passkey.js           web/static/passkey.js (the passkey ceremonies)
#   target/site/pkg/*.gz                 precompressed copies (served when accepted)
#
# Idempotent and usable from any directory. Installs only what is missing: the
# wasm32-unknown-unknown target and wasm-bindgen-cli at exactly the wasm-bindgen
# version in Cargo.lock (the library and the CLI must match byte for byte).
#
# No cargo-leptos: it needs a newer rustc than we have, and downloads at run time.
# LEPTOS_OUTPUT_NAME is deliberately not set: without it Leptos loads
# <output_name>_bg.wasm, which is the name wasm-bindgen writes.
#
# Environment:
#   MONBAN_SITE_ROOT   where to put the site (default: <repo>/target/site)
#   CARGO_TARGET_DIR   honoured, as cargo does
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
site_root="${MONBAN_SITE_ROOT:-$target_dir/site}"
pkg_dir="$site_root/pkg"
profile="wasm-release"
wasm_target="wasm32-unknown-unknown"

say() { printf 'build-web: %s\n' "$*"; }

# --- toolchain --------------------------------------------------------------------------

if ! rustup target list --installed | grep -qx "$wasm_target"; then
  say "installing rust target $wasm_target"
  rustup target add "$wasm_target"
else
  say "rust target $wasm_target: present"
fi

# The version of the wasm-bindgen crate in Cargo.lock (the `name = "wasm-bindgen"` entry,
# not wasm-bindgen-macro & co.).
wbg_version="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock)"
if [[ -z "$wbg_version" ]]; then
  say "error: no wasm-bindgen in Cargo.lock; run 'cargo generate-lockfile' or a build first" >&2
  exit 1
fi

installed_version=""
if command -v wasm-bindgen >/dev/null 2>&1; then
  installed_version="$(wasm-bindgen --version | awk '{print $2}')"
fi
if [[ "$installed_version" != "$wbg_version" ]]; then
  say "installing wasm-bindgen-cli $wbg_version (found: ${installed_version:-none}); this takes a few minutes"
  # Not --locked: one of the CLI's locked dependencies is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$wbg_version"
else
  say "wasm-bindgen-cli $wbg_version: present"
fi

# --- build ------------------------------------------------------------------------------

say "cargo build -p monban-web-hydrate --target $wasm_target --profile $profile"
start=$SECONDS
cargo build -p monban-web-hydrate --target "$wasm_target" --profile "$profile"
say "wasm built in $((SECONDS - start))s"

wasm_file="$target_dir/$wasm_target/$profile/monban_web_hydrate.wasm"
if [[ ! -f "$wasm_file" ]]; then
  say "error: expected $wasm_file after the build" >&2
  exit 1
fi

mkdir -p "$pkg_dir"
say "wasm-bindgen --target web --out-name monban_web -> $pkg_dir"
# The name section (function names for stack traces) is over half the file; panic
# messages still reach the console without it.
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$pkg_dir" --out-name monban_web "$wasm_file"

cp "$repo_root/web/style/monban.css" "$pkg_dir/monban.css"
say "copied web/style/monban.css"
cp "$repo_root/web/static/passkey.js" "$pkg_dir/passkey.js"
say "copied web/static/passkey.js"

# Precompressed copies, served by the dashboard router (ServeDir::precompressed_gzip) to
# browsers that accept gzip. Rewritten every time so they never go stale.
for file in monban_web.js monban_web_bg.wasm monban.css passkey.js; do
  gzip -9 -n -c "$pkg_dir/$file" > "$pkg_dir/$file.gz"
done

size() { wc -c < "$1" | tr -d ' '; }
say "bundle:"
for file in monban_web_bg.wasm monban_web.js monban.css; do
  printf '  %-20s %8s bytes  (gzip %7s)\n' "$file" "$(size "$pkg_dir/$file")" "$(size "$pkg_dir/$file.gz")"
done
say "site root: $site_root (pass this path to monban_web::dashboard_router)"
