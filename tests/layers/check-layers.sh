#!/bin/sh
# check-layers.sh [ROOT]: the daemon's shape, checked from its sources.
# A module is a file's path under src/ or include/xroom/ without its
# extension (src/hub/room.c and include/xroom/hub/room.h are module
# hub/room); its layer is the folder. Module A includes module B when any
# of A's files has #include "xroom/B.h". Fails (exit 1, one line per
# problem) when
#   - an included xroom header does not exist;
#   - a module includes a module of a higher layer (layers, bottom up:
#     util codec config hub features transport daemon), or a layer the
#     script does not know;
#   - modules include one another in a circle, directly or through others
#     (the circle is printed);
#   - a file under src/ or include/ has more than 600 lines.
# Plain sh and awk, so it runs wherever the build does; ctest runs it.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
max_lines=600
layers="util codec config hub features transport daemon"

cd "$root"
[ -d src ] && [ -d include/xroom ] || { echo "check-layers: no src/ or include/xroom/ in $root" >&2; exit 2; }

files=$(find src include/xroom -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-layers: no sources in $root" >&2; exit 2; }

# shellcheck disable=SC2086 # the paths have no blanks
LC_ALL=C awk -v layers="$layers" -v max="$max_lines" '
function module(path) {
	sub(/^src\//, "", path)
	sub(/^include\/xroom\//, "", path)
	sub(/\.[ch]$/, "", path)
	return path
}
function layer_of(m,   l) {
	l = m
	sub(/\/.*/, "", l)
	return (m ~ /\//) ? l : ""
}
function fail(msg) { print "check-layers: " msg; bad = 1 }
# Depth-first search; state 1: on the current path, 2: done.
function visit(m,   i, n, t, k, cyc) {
	state[m] = 1
	stack[++depth] = m
	n = nedge[m]
	for (i = 1; i <= n; i++) {
		t = edge[m, i]
		if (state[t] == 1) {
			cyc = t
			for (k = depth; k >= 1 && stack[k] != t; k--)
				cyc = stack[k] " -> " cyc
			fail("include circle: " t " -> " cyc)
		} else if (!state[t]) {
			visit(t)
		}
	}
	depth--
	state[m] = 2
}
BEGIN {
	nl = split(layers, L, " ")
	for (i = 1; i <= nl; i++)
		rank[L[i]] = i
}
FNR == 1 {
	file = FILENAME
	mods[module(file)] = 1
	exists[file] = 1
	order_f[++nf] = file
}
{
	lines[FILENAME] = FNR
}
/^[ \t]*#[ \t]*include[ \t]*"xroom\// {
	inc = $0
	sub(/^[^"]*"xroom\//, "", inc)
	sub(/\.h".*/, "", inc)
	from[++ninc] = FILENAME
	to[ninc] = inc
}
END {
	for (k = 1; k <= nf; k++)
		if (lines[order_f[k]] > max)
			fail(order_f[k] ": " lines[order_f[k]] " lines (at most " max ")")
	for (k = 1; k <= ninc; k++) {
		file = from[k]; inc = to[k]; m = module(file)
		if (!(("include/xroom/" inc ".h") in exists)) {
			fail(file ": includes xroom/" inc ".h, which does not exist")
			continue
		}
		if (inc == m || ((m, inc) in has))
			continue
		has[m, inc] = 1
		edge[m, ++nedge[m]] = inc
		nedges++
		lm = layer_of(m); li = layer_of(inc)
		if (!(lm in rank))
			fail(file ": layer \"" lm "\" is not one of: " layers)
		else if (!(li in rank))
			fail(file ": includes xroom/" inc ".h, whose layer \"" li "\" is not one of: " layers)
		else if (rank[li] > rank[lm])
			fail(file ": " lm " may not include " li " (xroom/" inc ".h): layers point down only")
	}
	for (m in mods)
		order[++nm] = m
	# a fixed order, so that a circle is always reported the same way
	for (i = 2; i <= nm; i++)
		for (j = i; j > 1 && order[j - 1] > order[j]; j--) {
			t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
		}
	for (i = 1; i <= nm; i++)
		if (!state[order[i]])
			visit(order[i])
	if (bad)
		exit 1
	printf "check-layers: %d modules, %d includes between them, no circle, layers point down, no file over %d lines\n", nm, nedges, max
}' $files
