#!/usr/bin/env bash
# Runs every check: lint (Biome, shellcheck), type-check, unit and integration tests, the
# distribution matrix (the install script on Debian 11, 12 and 13 in containers, local/servers/;
# its images are built in the background meanwhile), then the end-to-end container test
# (local/containers/test.sh: the image and `docker compose up`, built and run), and a 3-minute
# soak with every fault on (bench/soak/, docs/reliability.md), run in the background from the
# start and checked at the end. Each of the two container tests says in one line why when it is
# skipped. Sets up first when needed (fast when nothing changed). Extra arguments go to vitest,
# and then the container test, the soak and the background build are left out
# (ACM_CERT_EXPORT_SOAK=skip leaves the soak out alone).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
# shellcheck source=local/toolchain.sh
source "$here/toolchain.sh"
ensure_node24
cd "$ROOT"

# The distribution matrix's images (local/servers/images.sh: Debian 11, 12 and 13), built in the
# background while lint, type-check and the other tests run; the matrix runs last and waits for
# them (images.sh's lock), finding them cached. Without a container engine the matrix says in
# one line why it is skipped (local/servers/test/support/global-setup.ts).
servers_log="$ROOT/.state/servers/images.log"
servers_pid=""
soak_pid=""
stop_group() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    # Its group; or itself, when it has not yet made the group (setsid not yet run).
    kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
  fi
}
stop_background() {
  stop_group "$servers_pid"
  stop_group "$soak_pid"
}
trap stop_background EXIT
if [ "$#" -eq 0 ] && [ "${ACM_CERT_EXPORT_SERVERS_TEST:-}" != skip ] &&
  bash "$here/containers/engine.sh" >/dev/null 2>&1; then
  mkdir -p "$(dirname "$servers_log")"
  # Its own process group (setsid), so that an interrupted run stops debootstrap too. Bookworm
  # first: the integration project's nginx tests (served-by-nginx, run-command-containers) use it.
  setsid bash "$here/servers/images.sh" bookworm bullseye trixie >"$servers_log" 2>&1 </dev/null &
  servers_pid=$!
fi

# The soak: the service's processes under mixed traffic with every fault on for 3 minutes, then
# a drain and its checks (bench/soak/run.ts). It mostly waits on its servers, so it runs beside
# the rest from the start, in its own process group; its result is checked at the end.
soak_dir="$ROOT/.state/soak/ci"
if [ "$#" -eq 0 ] && [ "${ACM_CERT_EXPORT_SOAK:-}" != skip ]; then
  rm -rf "$soak_dir"
  mkdir -p "$soak_dir"
  setsid node bench/soak/run.ts --minutes 3 --rate 1 --drain-minutes 10 --out "$soak_dir" >"$soak_dir/output.log" 2>&1 </dev/null &
  soak_pid=$!
fi

status=0
npm run check -- "$@" || status=$?
# A check that failed before the matrix ran leaves the build running: the EXIT trap stops it.
if [ -n "$servers_pid" ] && { [ "$status" = 0 ] || ! kill -0 "$servers_pid" 2>/dev/null; }; then
  servers_status=0
  wait "$servers_pid" || servers_status=$?
  if [ "$servers_status" != 0 ]; then
    echo "server images: the background build failed (exit $servers_status); the end of $servers_log:" >&2
    tail -n 5 "$servers_log" >&2
    [ "$status" != 0 ] || status=1
  fi
fi
[ "$status" = 0 ] || exit "$status"
if [ "$#" -gt 0 ]; then
  echo "container test skipped: vitest arguments given (bash local/containers/test.sh runs it alone)"
else
  bash "$here/containers/test.sh"
fi
if [ -n "$soak_pid" ]; then
  soak_status=0
  wait "$soak_pid" || soak_status=$?
  if [ -f "$soak_dir/summary.txt" ]; then
    cat "$soak_dir/summary.txt"
  else
    tail -n 20 "$soak_dir/output.log"
  fi
  if [ "$soak_status" != 0 ]; then
    echo "soak: failed (exit $soak_status); its logs and summary are in $soak_dir" >&2
    exit 1
  fi
fi
