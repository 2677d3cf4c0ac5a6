#!/usr/bin/env bash
# soak.sh: the long run of issue 7, outside CI. 1,000 rooms x 8 peers relay
# at a paced rate (default 40,000 msg/s, about half of saturation here) for
# MINUTES (default 10); the daemon's RSS is sampled every 30 s. The load
# generator checks every message's per-pair sequence (lost, duplicated,
# misrouted). After the run every connection is closed; once /healthz
# reports 0 peers, RSS is read again (the daemon hands freed memory back
# within a second or two: malloc_trim on the tick). Prints the samples, the
# generator's JSON line and a last line comparing RSS at start, at its peak
# and after the close.
#   usage: tests/bench/soak.sh [MINUTES] [RATE] [ROOMS]
#   (build/ must be built; XROOMD may name another daemon binary, LOG_LEVEL
#   its log level: debug shows each memory trim and what it cost, but lws
#   then logs every frame and the daemon slows down a lot)
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
rate=${2:-40000}
rooms=${3:-1000}
xroomd=${XROOMD:-./build/xroomd}
port=18099
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat >"$dir/config.json" <<JSON
{"rooms":{"max_rooms":100000},"limits":{"messages_per_second":10000,"message_burst":100000}}
JSON
"$xroomd" --config "$dir/config.json" --listen 127.0.0.1:$port \
  --state-dir "$dir/state" --log-level "${LOG_LEVEL:-warn}" &
pid=$!
sleep 0.5
rss() { awk '/VmRSS/ {print $2}' /proc/"$pid"/status; }
start=$(rss)
peak=$start
echo "rss_kb_start $start"
./build/tests/loadgen --port $port --pid "$pid" --rooms "$rooms" --peers 8 \
  --window 16 --rate "$rate" --warmup 10 --duration $((minutes * 60)) \
  >"$dir/result.json" 2>"$dir/loadgen.err" &
gen=$!
t=0
while kill -0 "$gen" 2>/dev/null; do
  sleep 30
  t=$((t + 30))
  if kill -0 "$gen" 2>/dev/null; then
    now=$(rss)
    [ "$now" -gt "$peak" ] && peak=$now
    echo "t=${t}s rss_kb $now"
  fi
done
wait "$gen" || true
# Every connection is closed by the generator's exit; wait until the daemon
# has seen them all go, then give the 250 ms tick time to trim.
for _ in $(seq 50); do
  curl -s http://127.0.0.1:$port/healthz | grep -q '"peers":0' && break
  sleep 0.2
done
sleep 2
end=$(rss)
echo "healthz $(curl -s http://127.0.0.1:$port/healthz)"
cat "$dir/result.json"
echo "rss_kb start $start peak $peak after_close $end"
