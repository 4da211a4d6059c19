#!/usr/bin/env bash
# Builds one container image per Debian release the install script is proven on (bullseye = 11,
# bookworm = 12, trixie = 13): a `debootstrap --variant=minbase` root filesystem from the mirror
# apt already uses, with what a server running the script has (openssl, ca-certificates,
# python3, Debian's AWS CLI; bookworm also nginx, for the test of a real web server), imported
# with `podman import` as localhost/acm-cert-export/server:<codename>. No registry needed.
#
# Cached: an image is rebuilt only when its recipe (this file, its release, the architecture)
# changed since it was built (label org.acm-cert-export.server-recipe). Safe to run several at
# once: each release is built under its own lock (flock), so a second caller waits for the
# first and then finds the image. Prints the image names, one a line, in the order asked.
#
# Needs root, podman and debootstrap (local/containers/engine.sh installs them).
# Usage: bash local/servers/images.sh [bullseye|bookworm|trixie ...]   (default: all three)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=local/toolchain.sh
source "$here/../toolchain.sh"

readonly label=org.acm-cert-export.server-recipe
readonly repository=localhost/acm-cert-export/server
readonly lock_dir=/tmp # always there (/run/lock is not, in every container)

# packages CODENAME: what the image of CODENAME carries beyond minbase.
packages() {
  # python3-cffi-backend: debootstrap does not resolve virtual packages, and trixie's
  # python3-cryptography (the AWS CLI's) depends on the ones it provides.
  local list=openssl,ca-certificates,python3,awscli,python3-cffi-backend
  # nginx (Debian's) on one release: the test of a server that serves what the script installs.
  [ "$1" = bookworm ] && list="$list,nginx"
  echo "$list"
}

# The mirror apt already uses here (the first release without a suffix), as base-images.sh.
mirror() {
  local uri
  # shellcheck disable=SC2016 # apt's own $(…) placeholders, not the shell's
  uri="$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
    awk '$1 ~ /^[a-z]+$/ { print $2; exit }')" || true
  echo "${uri:-http://deb.debian.org/debian/}"
}

recipe_of() {
  { cat "$here/images.sh"; echo "$1 $(packages "$1")"; uname -m; } | sha256sum | cut -c1-16
}

up_to_date() {
  local image="$1" recipe="$2" built
  podman image exists "$image" || return 1
  built="$(podman image inspect --format "{{index .Labels \"$label\"}}" "$image")"
  [ "$built" = "$recipe" ]
}

# remove_rootfs DIR: what debootstrap may have left mounted in DIR first (it mounts /proc and
# /sys, and binds /dev in a container), then the directory, never crossing into a mount.
remove_rootfs() {
  local dir="$1" mount
  [ -d "$dir" ] || return 0
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf --one-file-system "$dir" "$dir.log"
}

build() {
  local codename="$1" image="$repository:$1" recipe main rootfs started old
  recipe="$(recipe_of "$codename")"
  up_to_date "$image" "$recipe" && return 0
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is needed (apt-get install debootstrap)"
  main="$(mirror)"
  started="$(date +%s)"
  old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null)" || old=""
  rootfs="$(mktemp -d "/var/tmp/acm-cert-export-$codename.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap removes this directory
  trap "remove_rootfs '$rootfs'" EXIT
  trap 'exit 143' TERM INT
  echo "Building $image (debootstrap --variant=minbase $codename, $(packages "$codename"), $main)" >&2
  if ! debootstrap --variant=minbase --include="$(packages "$codename")" "$codename" "$rootfs" \
    "$main" >"$rootfs.log" 2>&1; then
    cat "$rootfs.log" "$rootfs/debootstrap/debootstrap.log" >"/var/tmp/acm-cert-export-$codename-debootstrap.log" 2>/dev/null || true
    die "debootstrap $codename failed (last line: $(tail -n 1 "$rootfs.log")); log: /var/tmp/acm-cert-export-$codename-debootstrap.log"
  fi
  rm -f "$rootfs/etc/hostname"
  echo "deb $main $codename main" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner -C "$rootfs" -c . |
    podman import --quiet --change "LABEL $label=$recipe" --change 'CMD ["sleep", "infinity"]' \
      - "$image" >/dev/null || die "podman import of $image failed"
  remove_rootfs "$rootfs"
  trap - EXIT TERM INT
  # The image this one replaces, unless a container still uses it.
  if [ -n "$old" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
  echo "Built $image in $(($(date +%s) - started)) s ($(podman image inspect --format '{{.Size}}' "$image") B)" >&2
}

[ "$(id -u)" = 0 ] || die "root is needed (debootstrap, rootful podman)"
command -v podman >/dev/null 2>&1 || die "podman is needed (bash local/containers/engine.sh installs it)"
[ "$#" -gt 0 ] || set -- bullseye bookworm trixie
for codename in "$@"; do
  case "$codename" in
  bullseye | bookworm | trixie) ;;
  *) die "unknown release '$codename' (bullseye, bookworm or trixie)" ;;
  esac
done
for codename in "$@"; do
  (
    exec 9>"$lock_dir/acm-cert-export-server-$codename.lock"
    flock 9
    build "$codename"
  )
  echo "$repository:$codename"
done
