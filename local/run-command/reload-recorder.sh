#!/usr/bin/env bash
# The body of the reload recorder that the Run Command stand-in writes at <root><argv0> for each
# allowed reload command of a stand-in server (server-root.ts puts the settings below in front of
# it): the install script's reload then records a line instead of running anything on the
# machine hosting the stand-in.
#
# Settings: log (the server's reloads.log), program (the command it stands in for), reload
# (record | fail | slow), slow_seconds (how long a slow reload runs), root (the server's root).
set -u
: "${log:?}" "${program:?}" "${reload:?}" "${slow_seconds:?}" "${root:?}"

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

exit_code=0
if [ "$reload" = fail ]; then exit_code=1; fi
words=$(json_string "$program")
for word in "$@"; do words+=",$(json_string "$word")"; done
mkdir -p -- "${log%/*}"
printf '{"time":"%s","argv":[%s],"exitCode":%d}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$words" "$exit_code" >>"$log"

case $reload in
  slow)
    # Named after the server's root, so that a test can see it is gone once it was stopped.
    (exec -a "stand-in-slow-reload $root" sleep "$slow_seconds")
    ;;
  fail)
    echo "stand-in: $program failed (standin:reload=fail on this server)" >&2
    ;;
esac
exit "$exit_code"
