#!/usr/bin/env bash
# Entrypoint of the Dockerfile's "standin" image (docker compose only): runs the command as the
# owner of the bind-mounted state directory (./.state of the checkout), so that everything the
# seeding step and the stand-in servers write there belongs to the user whose checkout it is, as
# files written by the no-Docker local run do, never to root. Where that directory is root's (a
# root user's checkout, or rootless podman, whose root is the user) the command runs as root.
set -euo pipefail
state=/app/.state
if [ "$(id -u)" = 0 ] && [ -d "$state" ]; then
  owner="$(stat -c %u "$state")"
  group="$(stat -c %g "$state")"
  if [ "$owner" != 0 ]; then
    # A home the user may write (root's is not readable to it); the AWS CLI looks there.
    export HOME=/tmp
    exec setpriv --reuid="$owner" --regid="$group" --clear-groups -- "$@"
  fi
fi
exec "$@"
