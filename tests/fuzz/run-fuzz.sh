#!/bin/sh
# run-fuzz.sh: a long libFuzzer run of one target, outside CI. Builds with
# clang, XROOM_FUZZ, ASan and UBSan in build-fuzz/, then fuzzes for SECONDS
# (default 600) from the committed seeds. New inputs go to
# build-fuzz/corpus-TARGET (the committed corpus is only read); a crash is
# written to build-fuzz/artifacts-TARGET/ and the run exits non-zero.
#   usage: tests/fuzz/run-fuzz.sh proto|config|http_body [SECONDS] [libFuzzer flags...]
# Replay one crash: build-fuzz/tests/fuzz_TARGET build-fuzz/artifacts-TARGET/crash-...
set -eu

target=${1:-}
case $target in
proto | config | http_body) ;;
*)
	echo "usage: $0 proto|config|http_body [SECONDS] [libFuzzer flags...]" >&2
	exit 2
	;;
esac
shift
secs=${1:-600}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
seeds=$root/tests/fuzz/corpus/$target
work=$build/corpus-$target
art=$build/artifacts-$target

CC=${CC:-clang} cmake -S "$root" -B "$build" -DXROOM_FUZZ=ON -DXROOM_ASAN=ON \
	-DXROOM_UBSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target"
mkdir -p "$work" "$art"
dict=
[ -f "$root/tests/fuzz/$target.dict" ] && dict=-dict=$root/tests/fuzz/$target.dict
# shellcheck disable=SC2086 # $dict is one word or none
exec "$build/tests/fuzz_$target" -max_total_time="$secs" -max_len=8192 \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$art/" $dict "$@" "$work" "$seeds"
