#!/bin/sh
# The node image's entrypoint (stand-in, same behaviour): a first argument that is an option or
# not a command runs with node; anything else is run as given.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
