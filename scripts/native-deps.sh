#!/usr/bin/env bash
# Native build dependencies of the hub, installed with apt only when missing:
# OpenSSL's headers and pkg-config (webauthn-rs, the passkey library, links OpenSSL).
set -euo pipefail

if pkg-config --exists openssl 2>/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "error: OpenSSL development files are missing and apt-get is unavailable; install them (Debian: libssl-dev pkg-config; Fedora: openssl-devel pkgconf)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "==> installing libssl-dev and pkg-config with apt-get (passkeys need OpenSSL)"
$sudo apt-get update || echo "warning: apt-get update failed; trying the install anyway" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl-dev pkg-config
