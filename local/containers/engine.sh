#!/usr/bin/env bash
# Makes the container engine the end-to-end container test needs ready, from Debian's packages:
# podman with the runc runtime and DNS between containers, debootstrap (base images, see
# base-images.sh) and Debian's docker-compose 1.29 (driven through podman's Docker API). Writes
# /etc/containers/containers.conf only when there is none (runtime runc, explicit ulimits: the
# defaults are refused on these machines; see local/containers/README.md).
#
# Exit 0: ready. Exit 3: cannot be made ready here (not root, not Debian, the install failed),
# with one line saying why on stdout. Idempotent: fast when everything is in place.
set -euo pipefail

packages=(podman runc golang-github-containernetworking-plugin-dnsname debootstrap docker-compose)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get: podman, debootstrap and docker-compose install from Debian's packages only"
    exit 3
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "not root: cannot install ${missing[*]} (apt-get install ${missing[*]} as root, then rerun)"
    exit 3
  fi
  echo "Installing ${missing[*]} (Debian packages)" >&2
  log="$(mktemp)"
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >"$log" 2>&1; then
    echo "apt-get install ${missing[*]} failed: $(tail -n 1 "$log")"
    rm -f "$log"
    exit 3
  fi
  rm -f "$log"
fi

if [ "$(id -u)" != 0 ]; then
  echo "not root: the test runs podman as root (rootful), as installed here"
  exit 3
fi

conf=/etc/containers/containers.conf
if [ ! -e "$conf" ]; then
  hard_nofile="$(ulimit -Hn)"
  hard_nproc="$(ulimit -Hu)"
  nofile=20000
  nproc=1000
  [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt "$nofile" ] && nofile="$hard_nofile"
  [ "$hard_nproc" != unlimited ] && [ "$hard_nproc" -lt "$nproc" ] && nproc="$hard_nproc"
  echo "Writing $conf (runtime runc, ulimits nofile=$nofile nproc=$nproc)" >&2
  mkdir -p "$(dirname "$conf")"
  cat >"$conf" <<EOF
# Written by acm-cert-export's local/containers/engine.sh: crun and the default ulimits are
# refused on machines like this one; runc with explicit limits works.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
fi

podman info >/dev/null 2>&1 || {
  echo "podman is installed but 'podman info' fails: $(podman info 2>&1 | tail -n 1)"
  exit 3
}
