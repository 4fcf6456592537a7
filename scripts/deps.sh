#!/usr/bin/env bash
# Install the Debian packages tapiq needs to build, test and benchmark
# (chromium and python3-websocket: the lamp wall's browser test).
# Idempotent: prints nothing and changes nothing when all are installed.
# Uses sudo when not run as root.
set -euo pipefail

packages=(
  meson ninja-build pkg-config gcc g++
  liburcu-dev libck-dev libbenchmark-dev
  clang libclang-rt-14-dev valgrind gnuplot-nox
  mosquitto mosquitto-clients libmosquitto-dev nats-server
  chromium python3 python3-websocket
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: dpkg-query not found: not a Debian system; install these yourself:" >&2
  echo "  ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$p")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: missing packages (${missing[*]}) and not root; sudo not found" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done" >&2
