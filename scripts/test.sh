#!/usr/bin/env bash
# Build tapiq three ways and run every test in each:
#   build-test  plain (warnings are errors)
#   build-tsan  ThreadSanitizer (gcc), test setup 'tsan'
#   build-asan  AddressSanitizer + UBSan, aborting on the first report, test setup 'asan'
# It keeps going through all three, prints a summary per build and suite, and
# ends with the line `N passed, N failed` (`, N skipped` may follow). A build
# that fails to configure or compile counts as one failed test. The exit
# status is non-zero when anything failed.
#
#   ./scripts/test.sh           all three builds
#   ./scripts/test.sh --quick   the plain build only
#
# Installs missing Debian packages first (via sudo when not root).
set -uo pipefail
script=$(readlink -f "${BASH_SOURCE[0]}")
cd "$(dirname "$script")/.." || exit 1

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$script"; exit 0 ;;
    *) echo "test.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

if ! ./scripts/deps.sh; then
  echo "test.sh: installing the required packages failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# Two cores: two compile jobs and two tests at a time; the builds run one
# after another so sanitizer tests do not compete with compilers.
jobs=2
# The compiler is fixed when a build dir is first set up.
export CC="${CC:-gcc}" CXX="${CXX:-g++}"

results=()   # "dir|state|meson test exit status|test log"

# run_build DIR TEST_SETUP MESON_OPTION...
run_build() {
  local dir=$1 setup=$2
  shift 2
  echo
  echo "=== $dir ($*)"
  if [ -f "$dir/meson-private/coredata.dat" ]; then
    # --reconfigure (not `meson configure`) also takes options added since.
    meson setup --reconfigure "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
  if [ $? -ne 0 ]; then
    results+=("$dir|configure failed|1|")
    return
  fi
  if ! meson compile -C "$dir" -j "$jobs"; then
    results+=("$dir|compile failed|1|")
    return
  fi
  # Meson names the log after the test setup: testlog.json, testlog-tsan.json.
  local test_args=(--print-errorlogs --num-processes "$jobs") log="$dir/meson-logs/testlog.json"
  if [ -n "$setup" ]; then
    test_args+=(--setup "$setup")
    log="$dir/meson-logs/testlog-$setup.json"
  fi
  rm -f "$log"
  # The test log has no suites (Meson 1.0): take them from the build's test list.
  meson introspect "$dir" --tests > "$dir/meson-logs/tests.json" || rm -f "$dir/meson-logs/tests.json"
  meson test -C "$dir" "${test_args[@]}"
  results+=("$dir|tested|$?|$log")
}

# Every optional part this machine can build, named also for build dirs set
# up before a default changed (meson keeps an existing dir's values).
parts=(-Dmqtt=auto -Dbench=auto -Dfuzz=auto)
run_build build-test "" -Dwerror=true "${parts[@]}"
if [ "$quick" -eq 0 ]; then
  run_build build-tsan tsan -Db_sanitize=thread -Dwerror=true "${parts[@]}"
  run_build build-asan asan -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all -Dwerror=true \
    "${parts[@]}"
fi

echo
echo "=== summary"
python3 - "${results[@]}" <<'PY'
import collections
import json
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}
# FAIL, TIMEOUT, UNEXPECTEDPASS, ERROR and anything unknown count as failed.

def main():
    total = collections.Counter()
    for arg in sys.argv[1:]:
        d, state, rc, log = arg.split("|")
        rc = int(rc)
        if state != "tested":
            print(f"{d}: {state}: counted as 1 failed")
            total["failed"] += 1
            continue
        # Test name -> suites ("project:suite"), from `meson introspect --tests`.
        suites_of = collections.defaultdict(list)
        try:
            with open(f"{d}/meson-logs/tests.json", encoding="utf-8") as f:
                for t in json.load(f):
                    for s in t.get("suite") or []:
                        if s not in suites_of[t["name"]]:
                            suites_of[t["name"]].append(s)
        except (OSError, ValueError, KeyError, TypeError):
            pass
        try:
            with open(log, encoding="utf-8") as f:
                lines = [line for line in f if line.strip()]
        except OSError:
            print(f"{d}: no test log {log} (meson test exited {rc}; see its output above): "
                  "counted as 1 failed")
            total["failed"] += 1
            continue
        build = collections.Counter()
        suites = collections.OrderedDict()
        failed_names = []
        for line in lines:
            t = json.loads(line)
            result = t.get("result", "ERROR")
            kind = "passed" if result in PASSED else "skipped" if result in SKIPPED else "failed"
            build[kind] += 1
            if kind == "failed":
                failed_names.append(f"{t.get('name', '?')} ({result})")
            # Suites are "project:suite"; a test may be in several. Meson 1.0
            # names a test "project:suite / name" once a project has several
            # suites, and plain "name" otherwise.
            name = t.get("name", "?")
            names = t.get("suite") or suites_of.get(name)
            if not names and " / " in name:
                names = [name.split(" / ", 1)[0]]
            for s in names or ["(no suite)"]:
                s = s.split(":", 1)[-1]
                suites.setdefault(s, collections.Counter())[kind] += 1
        print(f"{d}: {build['passed']} passed, {build['failed']} failed, {build['skipped']} skipped")
        for s, c in suites.items():
            print(f"  {s:<16} {c['passed']:5} passed {c['failed']:5} failed {c['skipped']:5} skipped")
        for name in failed_names:
            print(f"  FAILED: {name}")
        if rc != 0 and build["failed"] == 0:
            print(f"  meson test exited {rc} with no failed test: counted as 1 failed")
            build["failed"] += 1
        total.update(build)

    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    print(line)
    sys.exit(1 if total["failed"] else 0)


try:
    main()
except Exception:  # a broken log must not pass for success
    import traceback
    traceback.print_exc()
    sys.exit(3)
PY
status=$?
if [ "$status" -gt 1 ]; then
  # The summary itself broke (it exits 0 or 1 otherwise).
  echo "test.sh: the summary failed (exit $status)" >&2
  echo "0 passed, 1 failed"
fi
exit "$status"
