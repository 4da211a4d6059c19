#!/usr/bin/env bash
# Sets up everything the local run and the tests need, idempotently:
# Node.js 24 (bootstrapped when older), npm dependencies, and moto + AWS CLI + shellcheck in .venv.
set -euo pipefail
# shellcheck source=local/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$ROOT"

ensure_python
ensure_node24

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.setup-stamp 2>/dev/null || true)" != "$lock_hash" ]; then
  echo "Installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2 || die "npm ci failed"
  echo "$lock_hash" >node_modules/.setup-stamp
fi

req_hash="$(sha256sum local/requirements.txt | cut -d' ' -f1)"
if [ "$(cat .venv/.setup-stamp 2>/dev/null || true)" != "$req_hash" ]; then
  echo "Creating .venv with moto, AWS CLI and shellcheck (local/requirements.txt)" >&2
  python3 -m venv .venv || die "python3 -m venv failed: install python3-venv"
  .venv/bin/python -m pip install --quiet --upgrade pip >&2 || die "pip could not upgrade itself"
  .venv/bin/python -m pip install --quiet -r local/requirements.txt >&2 || die "pip install -r local/requirements.txt failed"
  echo "$req_hash" >.venv/.setup-stamp
fi

echo "Setup complete: node $(node -v), $(.venv/bin/python -c 'import moto; print("moto", moto.__version__)')" >&2
