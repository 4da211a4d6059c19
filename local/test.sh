#!/usr/bin/env bash
# Runs every check: lint (Biome, shellcheck), type-check, unit and integration tests, then the
# end-to-end container test (local/containers/test.sh: the image and `docker compose up`, built
# and run; one line when it is skipped). Sets up first when needed (fast when nothing changed).
# Extra arguments go to vitest, and then the container test is left out.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
# shellcheck source=local/toolchain.sh
source "$here/toolchain.sh"
ensure_node24
cd "$ROOT"
npm run check -- "$@"
if [ "$#" -gt 0 ]; then
  echo "container test skipped: vitest arguments given (bash local/containers/test.sh runs it alone)"
else
  bash "$here/containers/test.sh"
fi
