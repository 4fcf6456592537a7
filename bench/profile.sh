#!/usr/bin/env bash
# bench/profile.sh - where the wall-clock time of one bench scenario goes.
#
#   bench/profile.sh REGEX [SECONDS] [BUILD]
#
# Runs the scenarios matching REGEX (a --benchmark_filter) for SECONDS each
# (default 2) under `perf record -e cpu-clock -g` (software clock: these VMs
# have no hardware counters), then prints the hottest symbols and, for the
# two hottest, their hottest instructions with the instructions just before
# them (the sample lands on the instruction after a stall: a cache miss
# usually shows on the instruction following the load or locked op).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
filter=${1:?usage: bench/profile.sh REGEX [SECONDS] [BUILD]}
seconds=${2:-2}
build=${3:-build-bench}
data=$(mktemp /tmp/tapiq-perf.XXXXXX)
trap 'rm -f "$data" "$data.old"' EXIT

TAPIQ_BENCH_SECONDS=$seconds perf record -q -e cpu-clock -F 2000 -g -o "$data" \
    "$build/bench/tapiq-bench" --benchmark_filter="$filter" 2>/dev/null | grep -E '/manual_time' || true
echo "== hottest symbols (share of all samples, self)"
perf report -i "$data" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -20
for sym in $(perf report -i "$data" --no-children --sort sym --stdio 2>/dev/null |
             grep -E '^ +[0-9]' | grep '\[\.\]' | head -2 | awk '{print $3}'); do
    echo "== $sym: hottest instructions (share of the symbol's samples)"
    perf annotate -i "$data" --stdio -s "$sym" 2>/dev/null |
        grep -E '^\s+[0-9]+\.[0-9]+ :' | sort -rn | head -4 | while read -r pct _ addr _; do
            addr=${addr%:}
            perf annotate -i "$data" --stdio -s "$sym" 2>/dev/null |
                grep -B4 -E "^\s+[0-9.]+ :\s+$addr:" | cut -c1-110
            echo "   --"
        done
done
