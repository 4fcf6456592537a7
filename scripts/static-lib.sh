#!/bin/sh
# scripts/static-lib.sh OUT.a OBJCOPY AR OBJ... - the installed static library
# (run by meson.build; $CC is the C compiler command).
#
# The objects of the shared library are linked into one relocatable object
# (cc -r), whose hidden symbols (everything but TAPIQ_API) are then made local
# (objcopy --localize-hidden), and archived alone. A static link then sees
# exactly what the shared library exports: no internal name of tapiq can clash
# with one of the application's.
set -eu
out=$1 objcopy=$2 ar=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapiq-static.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# $CC may be several words (ccache gcc): split on purpose.
# shellcheck disable=SC2086
${CC:?} -r -nostdlib -o "$tmp/tapiq.o" "$@"
"$objcopy" --localize-hidden "$tmp/tapiq.o"
rm -f "$out"
"$ar" rcs "$out" "$tmp/tapiq.o"
