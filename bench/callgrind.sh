#!/bin/sh
# bench/callgrind.sh DRIVER OUTDIR - instructions per request under callgrind
# (a wrapper so `meson test --benchmark` can run bench/callgrind.py).
exec python3 "$(dirname "$0")/callgrind.py" "$@"
