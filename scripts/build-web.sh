#!/usr/bin/env bash
# Builds the dashboard's browser bundle into target/site/pkg:
#
#   target/site/pkg/monban_web.js        wasm-bindgen loader (the page imports it)
#   target/site/pkg/monban_web_bg.wasm   the main module: runtime, page frame, overview
#   target/site/pkg/split_*.wasm         the other pages (lazy routes, web/src/routes.rs),
#   target/site/pkg/chunk_*.wasm           fetched when one of them is opened
#   target/site/pkg/__wasm_split.______________________.js   their loader
#   target/site/pkg/__wasm_split_manifest.json   lazy function -> modules (the server
#                                          preloads the modules of the page it renders)
#   target/site/pkg/monban.css           web/style/monban.css
#   target/site/pkg/passkey.js           web/static/passkey.js (the passkey ceremonies)
#   target/site/pkg/*.gz                 precompressed copies (served when accepted)
#
# Steps: cargo build of monban-web-hydrate for wasm32 (flags from .cargo/config.toml:
# Leptos's erase_components, and --emit-relocs for the split); monban-web-split (web/split)
# cuts it into the main module and the lazily loaded ones; wasm-bindgen makes the main
# module's JS loader.
#
# Then it prints the gzip bytes of the JS and wasm a browser loads for the overview (the
# first page an officer opens), for the other pages, and for the whole bundle, and fails
# if the overview is over 300 KB or the whole bundle over 500 KB (issue 10, point 7), or if
# a file the loader or the manifest names is missing.
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
#   RUSTFLAGS          ignored for the wasm (with a warning): it would replace the flags
#                      of .cargo/config.toml that the bundle needs
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

# The split tool is a default member (its unit tests run with `cargo test`), so this dev
# build is shared with `cargo build`.
say "cargo build -p monban-web-split"
cargo build -p monban-web-split
split_tool="$target_dir/debug/monban-web-split"

if [[ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]]; then
  say "warning: RUSTFLAGS is set; the wasm is built with the flags of .cargo/config.toml only" >&2
fi
say "cargo build -p monban-web-hydrate --target $wasm_target --profile $profile"
start=$SECONDS
env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
  cargo build -p monban-web-hydrate --target "$wasm_target" --profile "$profile"
say "wasm built in $((SECONDS - start))s"

wasm_file="$target_dir/$wasm_target/$profile/monban_web_hydrate.wasm"
if [[ ! -f "$wasm_file" ]]; then
  say "error: expected $wasm_file after the build" >&2
  exit 1
fi
main_wasm="$target_dir/$wasm_target/$profile/monban_web_hydrate_main.wasm"

mkdir -p "$pkg_dir"
# The lazily loaded modules are named after their #[lazy] function (with a hash of where
# it is written): drop the previous build's, so only this build's are served and counted.
rm -f "$pkg_dir"/split_*.wasm* "$pkg_dir"/chunk_*.wasm* "$pkg_dir"/__wasm_split*
say "monban-web-split -> $pkg_dir"
"$split_tool" "$wasm_file" "$main_wasm" "$pkg_dir"

say "wasm-bindgen --target web --out-name monban_web -> $pkg_dir"
# The name section (function names for stack traces) is over half the file; panic
# messages still reach the console without it. --keep-lld-exports: the lazily loaded
# modules import the main module's functions, memory and table through those exports.
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --keep-lld-exports --out-dir "$pkg_dir" --out-name monban_web "$main_wasm"

# A stylesheet with an unclosed block is still served, but every rule after the break is
# lost without a word (a merge once cut a closing brace): check the braces first.
if ! css_check=$(awk '
  {
    line = $0
    while (1) {
      if (inc) {
        i = index(line, "*/")
        if (!i) { line = ""; break }
        line = substr(line, i + 2); inc = 0
      }
      i = index(line, "/*")
      if (!i) break
      pre = substr(line, 1, i - 1); rest = substr(line, i + 2)
      j = index(rest, "*/")
      if (j) { line = pre substr(rest, j + 2) } else { line = pre; inc = 1; break }
    }
    d += gsub(/\{/, "{", line) - gsub(/\}/, "}", line)
    if (d < 0) { print "a } without its { at line " NR; exit 1 }
  }
  END { if (d != 0) { print "a { never closed (depth " d " at the end)"; exit 1 } }
' "$repo_root/web/style/monban.css"); then
  say "error: web/style/monban.css: $css_check"
  exit 1
fi
cp "$repo_root/web/style/monban.css" "$pkg_dir/monban.css"
say "copied web/style/monban.css"
# passkey.js is served without its comments, blank lines and indentation (it is written
# to be read: a third of its bytes are comments). Only whole comment lines and the block
# comment at its head go; the file keeps every line break, so no statement changes. The
# file must not start a line with `//` or `/*` inside a string (it does not; check when
# editing it).
awk '
  in_block { if (index($0, "*/")) in_block = 0; next }
  { line = $0; sub(/^[ \t]+/, "", line) }
  line ~ /^\/\*/ { if (!index(line, "*/")) in_block = 1; next }
  line ~ /^\/\// || line == "" { next }
  { print line }
' "$repo_root/web/static/passkey.js" > "$pkg_dir/passkey.js"
say "copied web/static/passkey.js (without comments: $(wc -c < "$pkg_dir/passkey.js") of $(wc -c < "$repo_root/web/static/passkey.js") bytes)"

# Precompressed copies, served by the dashboard router (ServeDir::precompressed_gzip) to
# browsers that accept gzip. Rewritten every time so they never go stale.
shopt -s nullglob
served=(monban.css)
for file in "$pkg_dir"/*.js "$pkg_dir"/*.wasm; do
  served+=("$(basename "$file")")
done
for file in "${served[@]}"; do
  gzip -9 -n -c "$pkg_dir/$file" > "$pkg_dir/$file.gz"
done

# --- checks and sizes -------------------------------------------------------------------

fail=0
check() { say "error: $*" >&2; fail=1; }

link_js="__wasm_split.______________________.js"
manifest="$pkg_dir/__wasm_split_manifest.json"
[[ -f "$pkg_dir/$link_js" ]] || check "$link_js is missing"
[[ -f "$manifest" ]] || check "__wasm_split_manifest.json is missing"
# The main module's loader imports the split loader, which imports the main loader back
# and fetches the lazily loaded modules: every name must be a file of this build.
grep -q "from \"./$link_js\"" "$pkg_dir/monban_web.js" ||
  check "monban_web.js does not import ./$link_js"
grep -q 'from "./monban_web.js"' "$pkg_dir/$link_js" 2>/dev/null ||
  check "$link_js does not import ./monban_web.js"
while read -r module; do
  [[ -f "$pkg_dir/$module" ]] || check "$link_js fetches $module, which is not in $pkg_dir"
done < <(grep -o '"\./[A-Za-z0-9_]*\.wasm"' "$pkg_dir/$link_js" 2>/dev/null | tr -d '"' | sed 's#^\./##')

# The manifest, as `function module` lines (the file is written by web/split, pretty JSON
# with one name per line).
manifest_lines="$(awk '
  /^  "[^"]+": \[/ { fn = $1; gsub(/[":]/, "", fn); next }
  /^    "[^"]+",?$/ { m = $1; gsub(/[",]/, "", m); print fn, m ".wasm" }
' "$manifest" 2>/dev/null)"
while read -r fn module; do
  [[ -z "${fn:-}" ]] && continue
  [[ -f "$pkg_dir/$module" ]] || check "the manifest names $module (for $fn), which is not in $pkg_dir"
done <<< "$manifest_lines"

size() { wc -c < "$1" | tr -d ' '; }
gz() { size "$pkg_dir/$1.gz"; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; }

say "bundle (gzip is what a browser that accepts it loads):"
for file in "${served[@]}"; do
  printf '  %-44s %8s bytes  (gzip %7s)\n' "$file" "$(size "$pkg_dir/$file")" "$(gz "$file")"
done

# Every page loads the main module, its loader, the split loader (imported by that
# loader) and passkey.js (a <script> of the page's head); a lazily loaded page also
# the modules the manifest names for its function.
page_base=$(( $(gz monban_web_bg.wasm) + $(gz monban_web.js) + $(gz "$link_js") + $(gz passkey.js) ))
total=0
for file in "${served[@]}"; do
  [[ "$file" == *.css ]] || total=$(( total + $(gz "$file") ))
done
overview_limit=300000
total_limit=500000
say "what a browser loads, gzip (JS + wasm; the stylesheet, $(kb "$(gz monban.css)"), not counted):"
printf '  %-44s %8s bytes  (%s, limit %s)\n' "overview / (first page)" "$page_base" "$(kb "$page_base")" "$(kb "$overview_limit")"
for fn in $(awk '{ print $1 }' <<< "$manifest_lines" | sort -u); do
  page=$page_base
  for module in $(awk -v f="$fn" '$1 == f { print $2 }' <<< "$manifest_lines"); do
    page=$(( page + $(gz "$module") ))
  done
  printf '  %-44s %8s bytes  (%s)\n' "pages of $fn" "$page" "$(kb "$page")"
done
printf '  %-44s %8s bytes  (%s, limit %s)\n' "total: every JS and wasm file" "$total" "$(kb "$total")" "$(kb "$total_limit")"
(( page_base <= overview_limit )) || check "the overview loads $page_base bytes gzip, over $overview_limit"
(( total <= total_limit )) || check "the bundle is $total bytes gzip, over $total_limit"

say "site root: $site_root (pass this path to monban_web::dashboard_router)"
if (( fail )); then
  say "FAILED (see the errors above)" >&2
  exit 1
fi
