#!/usr/bin/env bash
# Sets up (Node 24, npm dependencies, moto in .venv), then runs the whole system locally
# without Docker: the emulator, the Run Command stand-in with two stand-in servers, seeding,
# and the service. Ctrl-C stops everything. Arguments go to local/dev/run-local.ts (--port N).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
# shellcheck source=local/toolchain.sh
source "$here/toolchain.sh"
ensure_node24
cd "$ROOT"
exec node local/dev/run-local.ts "$@"
