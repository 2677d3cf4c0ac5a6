#!/usr/bin/env bash
# tests/package/test-deb.sh BUILD_DIR: the install layout and the Debian
# package, end to end.
#  1. `cmake --install` into a temporary prefix: the binary, web client, man
#     page, sample config and unit land where they should, and the installed
#     binary serves its own web client with no flags (none from the tree).
#  2. `cpack -G DEB`: Depends names Debian 12's runtime libraries; `dpkg -i`
#     it, run /usr/bin/xroomd --version, start it on a free port with a
#     temporary state dir and no --web-root, fetch / (the start page from
#     /usr/share/xroom/web), stop it, and purge the package.
# Part 2 needs root (CI runs as root on a throw-away machine) and a machine
# where no xroom package is installed; otherwise it is skipped, saying why.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/xroom-pkg.XXXXXX)
pid=
installed_by_us=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ -n "$installed_by_us" ]; then
    dpkg -P xroom >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "package test: FAIL: $*" >&2; [ -f "$tmp/log" ] && sed 's/^/  log: /' "$tmp/log" >&2; exit 1; }
ok() { echo "package test: ok: $*"; }

# Starts $1 with no config and no --web-root on a free port, from /, with
# state in $tmp/state-$2; sets $pid and $port.
start() {
  : >"$tmp/log"
  (cd / && exec "$1" --listen 127.0.0.1:0 --state-dir "$tmp/state-$2") 2>"$tmp/log" &
  pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/log")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "$1 exited before listening"
    sleep 0.05
  done
  fail "$1 did not report its port"
}

# The start page at / is the installed index.html, byte for byte.
check_serves() { # $1 web root it must use
  grep -q "web root $1," "$tmp/log" || fail "web root is not $1: $(grep -o 'web root [^,]*' "$tmp/log")"
  curl -sf "http://127.0.0.1:$port/" -o "$tmp/index.html" || fail "GET / failed"
  cmp -s "$tmp/index.html" "$1/index.html" || fail "GET / is not $1/index.html"
  curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"status":"ok"' || fail "/healthz"
}

stop() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  [ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
}

# --- 1. cmake --install into a prefix ---------------------------------------
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/xroomd share/xroom/web/index.html share/xroom/web/room.html \
         share/man/man8/xroomd.8.gz share/doc/xroom/xroomd.sample.json \
         share/doc/xroom/copyright share/doc/xroom/nginx.conf \
         lib/systemd/system/xroomd.service; do
  [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done
grep -q "^ExecStart=$prefix/bin/xroomd --config /etc/xroom/xroomd.json\$" \
  "$prefix/lib/systemd/system/xroomd.service" || fail "the unit does not name $prefix/bin/xroomd"
"$prefix/bin/xroomd" --check-config "$prefix/share/doc/xroom/xroomd.sample.json" >/dev/null \
  || fail "the installed sample config does not validate"
start "$prefix/bin/xroomd" prefix
check_serves "$prefix/share/xroom/web"
stop
ok "cmake --install: layout, unit path, sample config; the installed binary serves $prefix/share/xroom/web"

# --- 2. the .deb ----------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  echo "package test: SKIPPED the .deb part: dpkg -i needs root (CI runs as root)"
  exit 0
fi
if dpkg-query -W -f='${Status}' xroom 2>/dev/null | grep -q 'install ok installed'; then
  echo "package test: SKIPPED the .deb part: an xroom package is installed here; not touching it"
  exit 0
fi
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/deb/xroom_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
# libev4 and lws's libev plugin with the default build (XROOM_EVENT_LOOP=libev).
for lib in libwebsockets17 libjansson4 libssl3 libsodium23 libev4 libwebsockets-evlib-ev; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
ok "built $(basename "$deb"); Depends: $depends"

installed_by_us=1
dpkg -i "$deb" >/dev/null || fail "dpkg -i"
[ "$(/usr/bin/xroomd --version)" = "xroomd $(dpkg-deb -f "$deb" Version)" ] \
  || fail "/usr/bin/xroomd --version: $(/usr/bin/xroomd --version)"
for f in /usr/share/xroom/web/index.html /usr/share/man/man8/xroomd.8.gz \
         /usr/lib/systemd/system/xroomd.service /usr/share/doc/xroom/xroomd.sample.json; do
  [ -e "$f" ] || fail "the package did not install $f"
done
grep -q '^ExecStart=/usr/bin/xroomd ' /usr/lib/systemd/system/xroomd.service \
  || fail "the packaged unit does not run /usr/bin/xroomd"
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man xroomd 2>/dev/null | grep -q -- '--merge-report' || fail "man xroomd"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
  withman=no; command -v man >/dev/null 2>&1 && withman=yes
  systemd-analyze verify --man="$withman" /usr/lib/systemd/system/xroomd.service >"$tmp/verify" 2>&1 \
    || { cat "$tmp/verify" >&2; fail "systemd-analyze verify"; }
fi
ok "dpkg -i: /usr/bin/xroomd --version, man page, unit verified"

# The source tree's web/ exists on this machine; the installed binary must
# still serve the installed client.
start /usr/bin/xroomd deb
check_serves /usr/share/xroom/web
stop
ok "/usr/bin/xroomd with no flags serves /usr/share/xroom/web (not $src/web)"

dpkg -P xroom >/dev/null || fail "dpkg -P xroom"
installed_by_us=
[ ! -e /usr/bin/xroomd ] && [ ! -e /usr/share/xroom ] || fail "files left after dpkg -P"
ok "dpkg -P xroom: the machine is as before"
