#!/usr/bin/env bash
# Runs every check: lint (Biome, shellcheck), type-check, unit and integration tests.
# Sets up first when needed (fast when nothing changed). Extra arguments go to vitest.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
# shellcheck source=local/toolchain.sh
source "$here/toolchain.sh"
ensure_node24
cd "$ROOT"
npm run check -- "$@"
