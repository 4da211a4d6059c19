#!/usr/bin/env bash
# Sets up (Node 24, npm dependencies, moto in .venv), then runs the whole system locally
# without Docker: the emulator, the Run Command stand-in with two stand-in servers, seeding,
# and the service. Ctrl-C stops everything. Arguments go to local/dev/run-local.ts:
# --port N (the API's, on 127.0.0.1; default $PORT, else 8080), --state-dir DIR (.state/local),
# --servers containers (the two demo servers are containers of local/servers/images.sh's bookworm
# image running nginx with TLS on 127.0.0.1:8443 and :8444 unless taken, the ports printed; needs
# podman, or DOCKER_HOST naming a Docker engine; Ctrl-C removes them; default --servers local:
# directories under the state directory).
# When the port is taken (another local run, or anything else) or another local run uses the
# state directory, it stops first, saying by what, with nothing set up, changed or wiped.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=local/toolchain.sh
source "$here/toolchain.sh"
ensure_node24
# Claims the state directory for this shell's pid, which run-local.ts keeps (exec, below), so a
# second up.sh started while this one sets up stops too.
(cd "$ROOT" && node local/dev/check-local-run.ts --owner-pid $$ "$@") || exit $?
bash "$here/setup.sh"
cd "$ROOT"
exec node local/dev/run-local.ts "$@"
