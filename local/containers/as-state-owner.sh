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
    # The container engine's socket, where one is mounted (docker-compose.nginx.yml): the user
    # keeps the socket's group (Docker's: docker), so the stand-in can reach its server containers.
    groups=(--clear-groups)
    socket=/var/run/docker.sock
    if [ -S "$socket" ] && [ "$(stat -c %g "$socket")" != 0 ]; then
      groups=(--groups "$(stat -c %g "$socket")")
    fi
    exec setpriv --reuid="$owner" --regid="$group" "${groups[@]}" -- "$@"
  fi
fi
exec "$@"
