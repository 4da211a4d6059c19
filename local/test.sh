#!/usr/bin/env bash
# Runs every check: lint (Biome, shellcheck), type-check, unit and integration tests, the
# distribution matrix (the install script on Debian 11, 12 and 13 in containers, local/servers/;
# its images are built in the background meanwhile), then the end-to-end container test
# (local/containers/test.sh: the image and `docker compose up`, built and run). Each of the two
# container tests says in one line why when it is skipped. Sets up first when needed (fast when
# nothing changed). Extra arguments go to vitest, and then the container test and the background
# build are left out.
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
stop_servers_build() {
  if [ -n "$servers_pid" ] && kill -0 "$servers_pid" 2>/dev/null; then
    # Its group; or itself, when it has not yet made the group (setsid not yet run).
    kill -TERM -- "-$servers_pid" 2>/dev/null || kill -TERM "$servers_pid" 2>/dev/null || true
  fi
}
if [ "$#" -eq 0 ] && [ "${ACM_CERT_EXPORT_SERVERS_TEST:-}" != skip ] &&
  bash "$here/containers/engine.sh" >/dev/null 2>&1; then
  mkdir -p "$(dirname "$servers_log")"
  # Its own process group (setsid), so that an interrupted run stops debootstrap too. Bookworm
  # first: the integration project's nginx tests (served-by-nginx, run-command-containers) use it.
  setsid bash "$here/servers/images.sh" bookworm bullseye trixie >"$servers_log" 2>&1 </dev/null &
  servers_pid=$!
  trap stop_servers_build EXIT
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
