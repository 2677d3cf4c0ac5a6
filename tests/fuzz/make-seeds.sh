#!/bin/sh
# make-seeds.sh: writes the proto corpus seeds made from JSONTestSuite's
# test_parsing cases (Nicolas Seriot, MIT licence): each file, byte for
# byte, becomes the `data` of a signal message from peer0 to peer1 of the
# fuzz world, as tests/fuzz/corpus/proto/js_<case>. The hand-written seeds
# beside them are not touched.
#   usage: tests/fuzz/make-seeds.sh [TEST_PARSING_DIR]
# (default: tests/data/json-test-suite/test_parsing, vendored with its licence)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../data/json-test-suite/test_parsing}
out=$here/corpus/proto

if [ ! -d "$src" ]; then
	echo "make-seeds.sh: no such directory: $src" >&2
	exit 1
fi
mkdir -p "$out"
rm -f "$out"/js_*
n=0
for f in "$src"/*.json; do
	name=$(basename "$f" .json)
	{
		printf '{"type":"signal","to":"peer1AAAAAAAAAAA","data":'
		cat "$f"
		printf '}'
	} >"$out/js_$name"
	n=$((n + 1))
done
echo "make-seeds.sh: $n seeds in $out"
