#!/usr/bin/env bash
# Build tapiq (release) and run the demo; arguments go to the demo
# (for example: ./scripts/demo.sh --threads 2 --seconds 5 --consoles 1000).
#
# --wall: the lamp wall. Starts Mosquitto on free loopback ports (a generated
# configuration: plain MQTT for tapiq and the consoles, WebSockets serving
# wall/ and MQTT over WebSockets for the browser), the simulated consoles
# (tapiq-console-sim: presence and last wills) and the demo through
# backend=mqtt; prints `wall: http://127.0.0.1:PORT/` and runs until Ctrl-C
# (or --seconds N). The broker and the consoles are stopped by PID on exit.
# Installs missing Debian packages first (via sudo when not root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

wall=0
args=()
for a in "$@"; do
  if [ "$a" = "--wall" ]; then wall=1; else args+=("$a"); fi
done

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
if [ "$wall" -eq 0 ]; then
  quiet meson compile -C build -j2 tapiq-demo
  exec build/tools/tapiq-demo "${args[@]}"
fi

# ---- the wall
quiet meson compile -C build -j2 tapiq-demo tapiq-console-sim
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$mosquitto" ] || { echo "demo.sh: mosquitto not found" >&2; exit 1; }

seconds=86400 consoles=500 rate=5000 config="" rest=()
set -- "${args[@]+"${args[@]}"}"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    --consoles) consoles=${2:?--consoles needs a value}; shift 2 ;;
    --rate) rate=${2:?--rate needs a value}; shift 2 ;;
    --config) config=",${2:?--config needs a value}"; shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mqtt_port=$(free_port)
ws_port=$(free_port)
while [ "$ws_port" = "$mqtt_port" ]; do ws_port=$(free_port); done

run=$(mktemp -d "${TMPDIR:-/tmp}/tapiq-wall.XXXXXX")
pids=()
cleanup() {
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$run/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous true
persistence false
log_dest stderr
listener $mqtt_port 127.0.0.1
listener $ws_port 127.0.0.1
protocol websockets
http_dir $PWD/wall
CONF
"$mosquitto" -c "$run/mosquitto.conf" 2>"$run/mosquitto.log" &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$ws_port") 2>/dev/null && break
  sleep 0.05
done

build/tools/tapiq-console-sim --url "mqtt://127.0.0.1:$mqtt_port" --consoles "$consoles" --lamps 256 \
  --ready-file "$run/consoles-ready" >/dev/null &
pids+=($!)
for _ in $(seq 200); do [ -e "$run/consoles-ready" ] && break; sleep 0.05; done

echo "wall: http://127.0.0.1:$ws_port/"
build/tools/tapiq-demo --consoles "$consoles" --seconds "$seconds" --rate "$rate" \
  --config "backend=mqtt,url=mqtt://127.0.0.1:$mqtt_port$config" "${rest[@]+"${rest[@]}"}" &
demo=$!
pids+=("$demo")
status=0
wait "$demo" || status=$?
exit "$status"
