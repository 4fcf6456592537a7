#!/usr/bin/env bash
# Run one fuzz target under libFuzzer for a bounded time.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#   fuzz/run.sh fuzz_api 60
#   fuzz/run.sh fuzz_config 3600 -jobs=2 -workers=2
#   fuzz/run.sh --build TARGET...      only set up and build (in parallel)
#
# TARGET is one of fuzz_api, fuzz_api_nomem, fuzz_config, fuzz_ring,
# fuzz_mqtt_wire. The libFuzzer build lives in build-fuzz (set FUZZ_BUILD to
# use another); it is set up on first use with clang, ASan+UBSan and
# -Dfuzz=enabled. A target's committed corpus is fuzz/corpus/TARGET, or
# beside its backend (fuzz_mqtt_wire: backends/mqtt/tests/corpus).
# New inputs go to a scratch corpus (build-fuzz/fuzz-work/TARGET, seeded from
# the committed one, which is only read). When libFuzzer reports a crash,
# leak, timeout or sanitizer error, the input is copied into the committed
# corpus (named crash-<sha1>, so that the replay test keeps failing until the
# bug is fixed) and the script exits non-zero.
# Prints a last line: `TARGET: N runs, cov C, corpus K, OK|FAILED`.
# Several targets may run at once (a target uses one core).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}
corpus_of() {
  case "$1" in
    fuzz_api|fuzz_api_nomem|fuzz_config|fuzz_ring) echo "fuzz/corpus/$1" ;;
    fuzz_mqtt_wire) echo backends/mqtt/tests/corpus ;;
    *) echo "run.sh: unknown target '$1'" >&2; exit 2 ;;
  esac
}
build=${FUZZ_BUILD:-build-fuzz}
# build_targets TARGET... - set up the build on first use, build the targets;
# one run.sh at a time.
build_targets() {
  local t outs=()
  for t in "$@"; do
    corpus_of "$t" >/dev/null
    outs+=("fuzz/$t")
  done
  mkdir -p "$build"
  exec 9>"$build/.run.lock"
  flock 9
  if [ ! -f "$build/meson-private/coredata.dat" ]; then
    CC=clang CXX=clang++ meson setup "$build" -Dfuzz=enabled \
      -Db_sanitize=address,undefined -Db_lundef=false \
      -Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all >/dev/null
  fi
  # ninja (not meson compile): it regenerates first when meson.build changed.
  ninja -C "$build" "${outs[@]}" >/dev/null
  exec 9>&- # unlocks
}

if [ "${1:-}" = --build ]; then
  shift
  [ $# -ge 1 ] || usage
  build_targets "$@"
  exit 0
fi
[ $# -ge 2 ] || usage
target=$1
seconds=$2
shift 2
corpus=$(corpus_of "$target")
case "$seconds" in
  ''|*[!0-9]*) echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;;
esac
build_targets "$target"

work="$build/fuzz-work/$target"
artifacts="$build/fuzz-work/$target-artifacts"
mkdir -p "$work" "$artifacts"
rm -f "$artifacts"/*
log="$build/fuzz-work/$target.log"

dict=()
[ -f "$corpus/tapiq.dict" ] && dict=(-dict="$corpus/tapiq.dict")

# No recovery from sanitizer reports; leaks are errors (LSan under ASan).
# A 64 MiB quarantine (default 256) still holds freed memory across many
# inputs, and keeps the API targets' runtime set-up out of fresh pages.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:quarantine_size_mb=64}

status=0
"$build/fuzz/$target" "$work" "$corpus" \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$@" \
  >"$log" 2>&1 || status=$?

crashes=$(find "$artifacts" -type f 2>/dev/null | sort)
if [ -n "$crashes" ]; then
  [ "$status" -eq 0 ] && status=1
  while IFS= read -r c; do
    name=$(basename "$c")
    kind=${name%%-*}
    sum=$(sha1sum "$c" | cut -c1-40)
    cp "$c" "$corpus/$kind-$sum"
    echo "run.sh: $target: $kind input kept as $corpus/$kind-$sum" >&2
  done <<<"$crashes"
fi
if [ "$status" -ne 0 ]; then
  echo "run.sh: $target failed (exit $status); the end of $log:" >&2
  tail -n 60 "$log" >&2
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
corpus=$(find "$work" -type f | wc -l)
echo "$target: ${runs:-?} runs, cov ${cov:-?}, corpus $corpus, $([ "$status" -eq 0 ] && echo OK || echo FAILED)"
exit "$status"
