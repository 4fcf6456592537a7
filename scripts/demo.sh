#!/usr/bin/env bash
# Build tapiq (release) and run the call-center demo; arguments go to the demo
# (for example: ./scripts/demo.sh --threads 2 --seconds 5 --consoles 1000).
# Installs missing Debian packages first (via sudo when not root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/deps.sh
# Build output is shown only when something fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "demo.sh: failed: $*" >&2
    exit 1
  fi
}
if [ ! -f build/meson-private/coredata.dat ]; then
  quiet meson setup build --buildtype=release
fi
quiet meson compile -C build -j2 tapiq-demo
exec build/tools/tapiq-demo "$@"
