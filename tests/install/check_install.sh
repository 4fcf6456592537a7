#!/usr/bin/env bash
# tests/install/check_install.sh - what `meson install` gives users, and a
# program built against it (test 'install', suite install).
#
#   check_install.sh MESON BUILD_DIR SOURCE_DIR SANITIZE HAVE_MQTT
#   ($CC: the C compiler command of the build)
#
# 1. `meson install --destdir` into an empty folder installs exactly: the two
#    headers, libtapiq.so.<version> with its symlinks .so.<soversion> and .so
#    (the soname), libtapiq.a, tapiq.pc, tapiq-demo, tapiq-soak and (mqtt)
#    tapiq-console-sim.
# 2. The installed libraries export exactly the API (tests/abi/check_abi.py).
# 3. examples/example.c builds against the installed tree with pkg-config,
#    linked with the shared library and with the static one, and runs.
# 4. The same program builds with tapiq as a Meson subproject (a local
#    subprojects/ folder: no network) through dependency('tapiq'), and only
#    the library of tapiq is built there.
# Programs are built with the build's sanitizers. Exit 77 (skip) when a tool
# is missing; 1 on the first failure, saying what.
set -euo pipefail
meson=$1 build=$(readlink -f "$2") src=$(readlink -f "$3") sanitize=$4 have_mqtt=$5
# meson test points it at the build tree; every program here must use the
# library it was built against.
unset LD_LIBRARY_PATH

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
for p in pkg-config python3 readelf nm ninja; do
  command -v "$p" >/dev/null || skip "$p is not installed"
done
: "${CC:?CC must name the C compiler}"
san=()
[ "$sanitize" != none ] && san=(-fsanitize="$sanitize")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapiq-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# --- 1. the installed tree
"$meson" install -C "$build" --destdir "$dest" --no-rebuild >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "meson install"; }
eval "$(python3 - "$meson" "$build" <<'PY'
import json, subprocess, sys
opts = json.loads(subprocess.run([sys.argv[1], "introspect", sys.argv[2], "--buildoptions"],
                                 check=True, capture_output=True, text=True).stdout)
val = {o["name"]: o["value"] for o in opts}
for k in ("prefix", "libdir", "includedir", "bindir"):
    v = val[k]
    if k != "prefix" and not v.startswith("/"):
        v = val["prefix"].rstrip("/") + "/" + v
    print("%s='%s'" % (k, v))
PY
)"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$build/meson-info/intro-projectinfo.json")
so=libtapiq.so.${version%%.*}
lib=$dest$libdir inc=$dest$includedir bin=$dest$bindir
want=("$inc/tapiq/tapi.h" "$inc/tapiq/tapiq.h" "$lib/libtapiq.so.$version" "$lib/$so"
      "$lib/libtapiq.so" "$lib/libtapiq.a" "$lib/pkgconfig/tapiq.pc" "$bin/tapiq-demo"
      "$bin/tapiq-soak")
[ "$have_mqtt" = true ] && want+=("$bin/tapiq-console-sim")
(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$tmp/got"
printf '%s\n' "${want[@]#$dest}" | sort >"$tmp/want"
if ! diff -u "$tmp/want" "$tmp/got"; then
  fail "the installed files differ from the expected ones (- expected, + installed)"
fi
[ "$(readlink "$lib/libtapiq.so")" = "$so" ] || fail "libtapiq.so does not point to $so"
[ "$(readlink "$lib/$so")" = "libtapiq.so.$version" ] || fail "$so does not point to the library"
readelf -d "$lib/libtapiq.so.$version" | grep -q "Library soname: \[$so\]" ||
  fail "the soname of libtapiq.so.$version is not $so"
echo "installed: ${#want[@]} files as expected, soname $so"

# --- 2. the installed libraries export exactly the API
python3 "$src/tests/abi/check_abi.py" --headers "$inc/tapiq/tapi.h" "$inc/tapiq/tapiq.h" \
  --map "$src/tapiq.map" --shared "$lib/libtapiq.so.$version" --static "$lib/libtapiq.a" ||
  fail "the installed libraries do not export exactly the API"

# --- 3. a consumer through pkg-config, shared and static
export PKG_CONFIG_PATH=$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc=(pkg-config --define-variable=prefix="$dest$prefix")
cflags=$("${pc[@]}" --cflags tapiq) || fail "pkg-config --cflags tapiq"
libs=$("${pc[@]}" --libs tapiq) || fail "pkg-config --libs tapiq"
slibs=$("${pc[@]}" --static --libs tapiq) || fail "pkg-config --static --libs tapiq"
# shellcheck disable=SC2086 # CC and pkg-config's flags are word lists
$CC "${san[@]}" -o "$tmp/app-shared" "$src/examples/example.c" $cflags $libs ||
  fail "building examples/example.c with pkg-config (shared)"
# shellcheck disable=SC2086
$CC "${san[@]}" -o "$tmp/app-static" "$src/examples/example.c" $cflags \
  ${slibs/-ltapiq/-l:libtapiq.a} || fail "building examples/example.c with pkg-config (static)"
readelf -d "$tmp/app-shared" | grep -q "Shared library: \[$so\]" ||
  fail "the shared consumer does not load $so"
if readelf -d "$tmp/app-static" | grep -q "libtapiq"; then
  fail "the static consumer loads libtapiq"
fi
LD_LIBRARY_PATH=$lib "$tmp/app-shared" || fail "the shared consumer failed"
"$tmp/app-static" || fail "the static consumer failed"
echo "pkg-config: examples/example.c built and ran, shared and static"

# --- 4. a consumer with tapiq as a Meson subproject
proj=$tmp/consumer
mkdir -p "$proj/subprojects"
ln -s "$src" "$proj/subprojects/tapiq"
cp "$src/examples/example.c" "$proj/app.c"
cat >"$proj/meson.build" <<'MESON'
project('consumer', 'c', default_options: ['c_std=c11', 'warning_level=3', 'werror=true'])
tapiq_dep = dependency('tapiq', fallback: 'tapiq')
app = executable('app', 'app.c', dependencies: tapiq_dep)
test('app', app)
MESON
setup=(--force-fallback-for=tapiq -Db_sanitize="$sanitize")
[ "$sanitize" != none ] && setup+=(-Db_lundef=false)
(unset PKG_CONFIG_PATH; CC=$CC "$meson" setup "${setup[@]}" "$proj/build" "$proj") \
  >"$tmp/sub.log" 2>&1 || { cat "$tmp/sub.log"; fail "meson setup of the consumer"; }
ninja -C "$proj/build" >>"$tmp/sub.log" 2>&1 || { cat "$tmp/sub.log"; fail "building the consumer"; }
"$meson" introspect "$proj/build" --tests | python3 -c '
import json, sys
names = sorted(t["name"] for t in json.load(sys.stdin))
if names != ["app"]:
    sys.exit("the consumer has tests %s: tapiq as a subproject must build only its library" % names)
' || fail "tapiq as a subproject built more than its library"
"$proj/build/app" || fail "the subproject consumer failed"
echo "subproject: examples/example.c built with dependency('tapiq') and ran"
