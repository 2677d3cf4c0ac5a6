#!/usr/bin/env bash
# relay-compare.sh: the same relay workload against two servers, runs
# alternating (A, B, A, B, ...) so that both see the same machine in the
# same session. A server is an xroomd binary, or the word `peerjs` for the
# PeerJS server (tests/bench/peerjs-server.mjs; needs `npm ci` in tests/),
# driven with the same workload in its own protocol. Each run starts a
# fresh server on loopback (xroomd with the benchmark config of
# docs/performance.md), pins it to core 0 and the load generator to core 1
# where taskset exists, and prints one line per run, then each side's
# medians (relayed/s and p99, or RSS per idle connection with --idle).
#   usage: tests/bench/relay-compare.sh XROOMD_A|peerjs XROOMD_B|peerjs [RUNS] [-- LOADGEN ARGS]
#   default workload: 50 rooms x 4 peers, 8 in flight each, 250 B,
#   2 s warm-up, 10 s measured; RUNS defaults to 3 per side.
#   (build/ must be built with the tests: build/tests/loadgen)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
a=$1 b=$2; shift 2
runs=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then runs=$1; shift; fi
[ "${1:-}" = "--" ] && shift
load=("$@")
[ ${#load[@]} -gt 0 ] || load=(--rooms 50 --peers 4 --window 8 --size 250 --warmup 2 --duration 10)
loadgen=${LOADGEN:-./build/tests/loadgen}
port=18097
dir=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cat >"$dir/config.json" <<JSON
{"rooms":{"max_rooms":100000},"limits":{"messages_per_second":10000,"message_burst":100000}}
JSON
# exec: in the background the function runs in a subshell, whose pid must
# become the daemon's own (for kill and for the generator's CPU reading).
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

one() { # $1 label, $2 binary or "peerjs"
  local proto=xroom probe=/healthz
  rm -rf "$dir/state"
  if [ "$2" = peerjs ]; then
    proto=peerjs probe=/
    pin 0 node tests/bench/peerjs-server.mjs $port >/dev/null &
  else
    pin 0 "$2" --config "$dir/config.json" --listen 127.0.0.1:$port \
      --state-dir "$dir/state" --log-level warn &
  fi
  pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null http://127.0.0.1:$port$probe && break
    sleep 0.1
  done
  local out
  out=$( (pin 1 "$loadgen" --port $port --pid "$pid" --proto $proto "${load[@]}") 2>/dev/null | tail -1)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "$1 $out"
  echo "$1 $out" >>"$dir/all"
}

for i in $(seq "$runs"); do
  one A "$a"
  one B "$b"
done
# Medians per side, from the JSON lines (node is there for the tests).
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const side = {};
for (const l of lines) {
  const [k, ...rest] = l.split(" ");
  try { (side[k] ??= []).push(JSON.parse(rest.join(" "))); } catch { console.log(`${k}: unreadable run: ${rest.join(" ")}`); }
}
const med = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)]; };
for (const k of Object.keys(side).sort()) {
  const r = side[k];
  const pick = (f) => med(r.map(f).filter((v) => typeof v === "number"));
  const what = r[0].mode === "capacity"
    ? `${Math.round(pick((x) => x.rss_bytes_per_conn))} B RSS per idle connection (${pick((x) => x.joined)} joined)`
    : `${Math.round(pick((x) => x.relayed_per_s))} relayed/s, p99 ${pick((x) => x.p99_us)} µs`;
  console.log(`${k} (${k === "A" ? process.argv[2] : process.argv[3]}): median ${what} over ${r.length} runs`);
}' "$dir/all" "$a" "$b"
