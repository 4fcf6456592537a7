#!/usr/bin/env bash
# bench/run.sh - build the bench in release mode, run the whole suite with
# repetitions, measure instructions per request under callgrind, and render
# bench/RESULTS.md and the charts.
#
# The raw output (gbench.json, callgrind.json, meta.json) goes to --out
# (bench/results/, not committed); bench/render.py condenses it into
# summary.json there (committed with RESULTS.md and bench/charts/), from
# which `bench/render.py --summary bench/results/summary.json bench`
# renders RESULTS.md again.
#
#   bench/run.sh [--smoke] [--reps N] [--seconds S] [--filter REGEX]
#                [--build DIR] [--out DIR] [--no-callgrind] [--no-render]
#
# --smoke: every scenario once with a tiny window (CI: checks that nothing
# rotted, no figures are kept, nothing is rendered). Exits non-zero when a
# scenario fails its checks (lost or duplicated items or replies).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=build-bench
out=bench/results
reps=5
seconds=0.5
filter=.
smoke=0
callgrind=1
render=1
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --reps) reps=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --filter) filter=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --no-callgrind) callgrind=0 ;;
    --no-render) render=0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$smoke" = 1 ]; then
    reps=1
    seconds=0.02
    out=$build/bench-smoke
    render=0
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=release -Dbench=enabled
fi
ninja -C "$build" bench/tapiq-bench bench/tapiq-cg-driver bench/tapiq-cg-handwritten
mkdir -p "$out"

args=(--benchmark_filter="$filter" --benchmark_out="$out/gbench.json" --benchmark_out_format=json)
if [ "$reps" -gt 1 ]; then
    args+=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true)
fi
echo "== tapiq-bench: $reps repetition(s) of ${seconds}s windows, filter '$filter'"
TAPIQ_BENCH_SECONDS=$seconds "$build/bench/tapiq-bench" "${args[@]}"

if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
    echo "== callgrind: instructions per request"
    cg=(python3 bench/callgrind.py "$build/bench/tapiq-cg-driver" "$out"
        --handwritten "$build/bench/tapiq-cg-handwritten")
    if [ "$smoke" = 1 ]; then
        "${cg[@]}" --consoles 10 --requests 256,512
    else
        "${cg[@]}"
    fi
fi

# The commit measured: TAPIQ_BENCH_COMMIT (for an exported tree), else git's
# HEAD, marked when the sources built (the library's and the bench's own)
# differ from it.
commit=${TAPIQ_BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [ -z "${TAPIQ_BENCH_COMMIT:-}" ] &&
   ! git diff --quiet HEAD -- core backends include meson.build meson_options.txt \
       'bench/*.c' 'bench/*.cc' 'bench/*.h' 'bench/*.py' 'bench/meson.build' 2>/dev/null; then
    commit="$commit+local-changes"
fi
command="bench/run.sh --reps $reps --seconds $seconds"
if [ "$filter" != . ]; then
    command="$command --filter '$filter'"
fi
cat >"$out/meta.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%MZ)", "reps": $reps, "seconds": $seconds,
 "command": "$(printf '%s' "$command" | sed 's/[\\"]/\\&/g')",
 "commit": "$commit",
 "cpus": $(nproc), "kernel": "$(uname -r)",
 "load_end": "$(cut -d' ' -f1-3 /proc/loadavg)"}
EOF

if [ "$render" = 1 ]; then
    python3 bench/render.py "$out" bench
fi
echo "== done: $out"
