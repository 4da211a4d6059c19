#!/usr/bin/env bash
# The end-to-end container test: the images are built and `docker compose up` runs, for real.
#
#  1. Base images: stand-ins built from Debian's packages where no registry is reachable
#     (base-images.sh); the Dockerfile itself is built unchanged.
#  2. Compose, as README.md's compose section says, word for word (its `docker compose` lines are
#     read from README.md and run as written; `docker compose` is Debian's docker-compose 1.29
#     on podman's Docker API socket), in a copy of the checkout owned by a non-root user: the
#     stack comes up (healthchecks run by this script: no systemd here), the README's deploy
#     command installs the demo certificate through the containerized API, the files appear
#     where the README says, readable by that user; `docker compose down` leaves no container
#     and no file that is not that user's. The stack runs with docker-compose.nginx.yml too
#     (COMPOSE_FILE, as README.md's "Watch nginx pick up the demo certificate" says): one demo
#     server is a Debian container running nginx, which serves its placeholder certificate on
#     127.0.0.1:8443 before the deploy and the demo certificate after it (openssl s_client).
#  3. The service image run as the ECS task runs it (image user, read-only root filesystem, /tmp
#     a volume, the stack's environment from local/stack-env.ts) against the emulator: healthy
#     by its own HEALTHCHECK, labelled with package.json's version (compose's VERSION build
#     argument), ended by SIGTERM within the task's stopTimeout; prints the image sizes and the
#     idle memory.
#
# Skips with one line where no container engine can be installed (see engine.sh), or with
# ACM_CERT_EXPORT_CONTAINER_TEST=skip. Runs one at a time on a machine (a lock).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=local/toolchain.sh
source "$here/../toolchain.sh"
cd "$ROOT"
ensure_node24

if [ "${ACM_CERT_EXPORT_CONTAINER_TEST:-}" = skip ]; then
  echo "container test skipped: ACM_CERT_EXPORT_CONTAINER_TEST=skip"
  exit 0
fi
reason="$(bash "$here/engine.sh")" || {
  status=$?
  [ "$status" = 3 ] || die "local/containers/engine.sh failed ($status): $reason"
  echo "container test skipped: $reason"
  exit 0
}

readonly project=acm-cert-export-e2e # the copy's directory name: compose's project name
readonly owner_uid=41011 owner_gid=41011
readonly ecs_name=acm-cert-export-e2e-ecs-task
readonly nginx_port=8443 # docker-compose.nginx.yml's web server, on loopback
readonly server_label=org.acm-cert-export.server-recipe # local/servers/images.sh's images
readonly stop_timeout=30 # the ECS task's stopTimeout (infra/lib/container-service.ts)
started=$SECONDS

exec 9>/tmp/acm-cert-export-container-test.lock
flock -w 1800 9 || die "another container test held the lock for 30 minutes"

step() { echo "[container test $((SECONDS - started))s] $*"; }
fail() {
  echo "CONTAINER TEST FAILED: $*" >&2
  exit 1
}

work="$(mktemp -d /tmp/acm-cert-export-e2e.XXXXXX)"
copy="$work/$project"
service_pid=""
up_pid=""
health_pid=""

compose_ids() { podman ps -aq --filter "label=com.docker.compose.project=$project"; }

cleanup() {
  local status=$?
  [ -z "$health_pid" ] || kill "$health_pid" 2>/dev/null || true
  podman rm -f -t 0 "$ecs_name" >/dev/null 2>&1 || true
  podman volume rm -f "$ecs_name-tmp" >/dev/null 2>&1 || true
  if [ -n "$(compose_ids)" ]; then
    [ "$status" = 0 ] || {
      echo "--- docker compose up's output (last 40 lines) ---" >&2
      tail -n 40 "$work/up.log" >&2 || true
    }
    (cd "$copy" && docker-compose down -t 5 >/dev/null 2>&1) || true
    # shellcheck disable=SC2046 # one ID per word
    podman rm -f -t 0 $(compose_ids) >/dev/null 2>&1 || true
  fi
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  [ -z "$up_pid" ] || kill "$up_pid" 2>/dev/null || true
  [ -z "$service_pid" ] || kill "$service_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port in use would make `up` fail half-way; say why at once.
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  fail "127.0.0.1:8080 is in use (a running local run or compose stack?): the stack publishes the API there"
fi
if (exec 3<>/dev/tcp/127.0.0.1/$nginx_port) 2>/dev/null; then
  fail "127.0.0.1:$nginx_port is in use (a local run with --servers containers?): docker-compose.nginx.yml publishes nginx there"
fi

step "base images (stand-ins, cached)"
bash "$here/base-images.sh"
# The web server's debian:bookworm-slim: local/servers/images.sh's bookworm image (cached; its
# Debian, with nginx already installed) stands in for it, as base-images.sh's do for the others;
# a real image of that name (no label of ours) is used as it is.
server_image="$(bash "$ROOT/local/servers/images.sh" bookworm | tail -n 1)"
debian_image=docker.io/library/debian:bookworm-slim
if ! podman image exists "$debian_image" ||
  [ -n "$(podman image inspect --format "{{index .Labels \"$server_label\"}}" "$debian_image" | sed 's/<no value>//')" ]; then
  podman tag "$server_image" "$debian_image"
fi

# The checkout as a fresh clone would have it (tracked and new files), owned by a non-root user.
git ls-files -z --cached --others --exclude-standard | tar --null -T - -c | tar -C "$work" --one-top-level="$project" -x
chown -R "$owner_uid:$owner_gid" "$copy"
chmod 0755 "$work" # mktemp's 0700 would keep that user out of its own checkout

# `docker`: `docker compose …` is Debian's docker-compose; anything else is podman's own CLI.
mkdir "$work/bin"
cat >"$work/bin/docker" <<'EOF'
#!/bin/sh
if [ "$1" = compose ]; then shift; exec docker-compose "$@"; fi
exec podman "$@"
EOF
chmod +x "$work/bin/docker"
# Through the API: docker-compose would run `build` and `exec` with the docker binary otherwise,
# and podman's own build writes OCI images, which drop the Dockerfile's HEALTHCHECK.
export PATH="$work/bin:$PATH" DOCKER_HOST="unix://$work/podman.sock" \
  COMPOSE_DOCKER_CLI_BUILD=0 COMPOSE_INTERACTIVE_NO_CLI=1
# README.md's nginx section: both files for every `docker compose` line, the engine's socket for
# the stand-in (which runs as the checkout's owner and keeps the socket's group).
export COMPOSE_FILE=docker-compose.yml:docker-compose.nginx.yml DOCKER_SOCKET="$work/podman.sock"
podman system service --time=0 "$DOCKER_HOST" >"$work/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 100); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
[ -S "$work/podman.sock" ] || fail "podman system service did not create its socket"
# The checkout's owner may use the engine (as a Docker user in the docker group may).
chgrp "$owner_gid" "$work/podman.sock"
chmod 0660 "$work/podman.sock"

# README.md's compose commands, as written there.
readme_line() {
  local line
  line="$(grep -m1 -E "^docker compose $1( |\$)" README.md | sed 's/[[:space:]]*#.*$//')" ||
    fail "README.md has no line starting 'docker compose $1'"
  echo "$line"
}
up_cmd="$(readme_line up)"
deploy_cmd="$(readme_line exec)"
down_cmd="$(readme_line down)"

# No systemd here to run healthchecks on their timers: run them every 2 s.
(while sleep 2; do
  for id in $(podman ps -q --filter "label=com.docker.compose.project=$project"); do
    podman healthcheck run "$id" >/dev/null 2>&1 || true
  done
done) &
health_pid=$!

health() { podman inspect --format '{{.State.Healthcheck.Status}}' "$1" 2>/dev/null || true; }
container() { podman ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1"; }

step "+ $up_cmd   (in $copy, as README.md says)"
(cd "$copy" && eval "$up_cmd") >"$work/up.log" 2>&1 &
up_pid=$!
deadline=$((SECONDS + 900))
until [ -n "$(container service)" ] && [ "$(health "$(container service)")" = healthy ]; do
  kill -0 "$up_pid" 2>/dev/null || fail "'$up_cmd' exited before the service was healthy"
  seed="$(container seed)"
  if [ -n "$seed" ] && [ "$(podman inspect --format '{{.State.Status}}' "$seed")" = exited ]; then
    seed_exit="$(podman inspect --format '{{.State.ExitCode}}' "$seed")"
    [ "$seed_exit" = 0 ] || fail "the seeding step exited $seed_exit"
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "the service was not healthy within 15 minutes of '$up_cmd'"
  sleep 2
done
seed_exit="$(podman inspect --format '{{.State.ExitCode}}' "$(container seed)")"
[ "$seed_exit" = 0 ] || fail "the seeding step exited $seed_exit"
step "stack up, service healthy; every target built (compose built service, standin, moto, web)"
served_subject() {
  openssl s_client -connect "127.0.0.1:$nginx_port" </dev/null 2>/dev/null | openssl x509 -noout -serial -subject 2>/dev/null || true
}
before="$(served_subject)"
grep -q 'CN = placeholder.demo' <<<"$before" ||
  fail "nginx (docker-compose.nginx.yml) does not serve its placeholder on 127.0.0.1:$nginx_port before the deploy: '$before'"
# VERSION only labels the service stage; given here too, podman does not warn that it is missing.
version="$(node -p 'require(process.argv[1]).version' "$copy/package.json")"
podman build --pull=never --format docker --quiet --target deps --build-arg "VERSION=$version" \
  -t acm-cert-export-deps:local "$copy" >/dev/null ||
  fail "podman build --target deps failed"

step "+ $deploy_cmd   (a terminal, as a user's)"
# A pseudo-terminal, as the user's: `docker compose exec` allocates one.
if ! (cd "$copy" && script -qefc "$deploy_cmd" /dev/null </dev/null) >"$work/deploy.log" 2>&1; then
  cat "$work/deploy.log" >&2
  fail "'$deploy_cmd' failed"
fi
grep -q 'installed on 2 of 2 servers' "$work/deploy.log" || {
  cat "$work/deploy.log" >&2
  fail "the deploy did not report 'installed on 2 of 2 servers'"
}
# The files, where README.md says, readable by the checkout's owner (read as that user).
mapfile -t instances < <(node -p 'require(process.argv[1]).instanceIds.join("\n")' "$copy/.state/demo.json")
[ "${#instances[@]}" = 2 ] || fail "demo.json names ${#instances[@]} servers, expected 2"
web_instance="$(node -p 'require(process.argv[1]).containers?.[0]?.instanceId ?? ""' "$copy/.state/demo.json")"
[ -n "$web_instance" ] || fail "demo.json names no server container (docker-compose.nginx.yml's seed step)"
for id in "${instances[@]}"; do
  [ "$id" != "$web_instance" ] || continue # its files are in the web container, checked below
  ssl="$copy/.state/servers/$id/etc/ssl"
  for file in certs/demo-fullchain.pem certs/demo-chain.pem private/demo-privkey.pem; do
    setpriv --reuid="$owner_uid" --regid="$owner_gid" --clear-groups -- head -c 64 "$ssl/$file" >/dev/null ||
      fail "$ssl/$file is missing or not readable by the checkout's owner"
  done
  openssl x509 -noout -subject -in "$ssl/certs/demo-fullchain.pem" | grep -q demo.acm-cert-export.test ||
    fail "$ssl/certs/demo-fullchain.pem is not the demo certificate"
done
step "demo certificate installed on ${instances[*]}, files readable by uid $owner_uid"
# The web server: the script ran inside it and `nginx -s reload` made nginx serve the new files.
local_instance=""
for id in "${instances[@]}"; do [ "$id" = "$web_instance" ] || local_instance="$id"; done
deployed="$(openssl x509 -noout -serial -in "$copy/.state/servers/$local_instance/etc/ssl/certs/demo-fullchain.pem")"
after="$(served_subject)"
if ! grep -q "^$deployed\$" <<<"$after" || ! grep -q 'CN = demo.acm-cert-export.test' <<<"$after"; then
  fail "nginx on 127.0.0.1:$nginx_port serves '$after' after the deploy, not the demo certificate ($deployed)"
fi
step "nginx in the web container ($web_instance) serves the demo certificate after the deploy: $deployed (before: the placeholder)"

# The service image as ECS runs it, beside the stack: a second task on the compose network.
# shellcheck disable=SC2016 # JavaScript, not shell
node --input-type=module -e '
  const { localServiceEnvironment } = await import(process.argv[1]);
  const env = localServiceEnvironment({ moto: "http://moto:5000", runCommand: "http://run-command:5001" });
  for (const [k, v] of Object.entries(env)) console.log(`${k}=${v}`);
' "$ROOT/local/stack-env.ts" >"$work/stack.env"
podman volume create "$ecs_name-tmp" >/dev/null
podman run -d --name "$ecs_name" --network "${project}_default" --read-only --read-only-tmpfs=false \
  -v "$ecs_name-tmp:/tmp" --env-file "$work/stack.env" --stop-timeout "$stop_timeout" \
  acm-cert-export:local >"$work/ecs-run.log" 2>&1 || {
  cat "$work/ecs-run.log" >&2
  fail "podman run of the service image failed"
}
deadline=$((SECONDS + 120))
until podman healthcheck run "$ecs_name" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || {
    podman logs "$ecs_name" 2>&1 | tail -n 20 >&2
    fail "the ECS-like container's HEALTHCHECK did not pass within 2 minutes"
  }
  sleep 1
done
[ "$(podman exec "$ecs_name" id -u)" = 1000 ] || fail "the service runs as uid $(podman exec "$ecs_name" id -u), expected the image's node user (1000)"
podman exec "$ecs_name" sh -c 'touch /app/written 2>/dev/null' && fail "the root filesystem is writable"
podman exec "$ecs_name" sh -c 'touch /tmp/written' || fail "/tmp is not writable by the service's user"
step "ECS-like task healthy (HEALTHCHECK), uid 1000, root filesystem read-only, /tmp writable"
# The image's version label is package.json's version: compose passes it as the VERSION build
# argument (service/test/unit/build/one-version.test.ts checks the file; this, the built image).
label="$(podman image inspect --format '{{ index .Config.Labels "org.opencontainers.image.version" }}' acm-cert-export:local)"
[ "$label" = "$version" ] || fail "the image's org.opencontainers.image.version is '$label', package.json's version is $version"
step "image labelled org.opencontainers.image.version=$label (package.json's version)"
sleep 10 # idle: health checks and the worker's long polls only
memory="$(podman stats --no-stream --format '{{.MemUsage}}' "$ecs_name")"
rss="$(podman exec "$ecs_name" sh -c 'grep VmRSS /proc/1/status' | awk '{ printf "%.0f MiB", $2 / 1024 }')"
size() { podman image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }
stop_start=$SECONDS
podman stop -t "$stop_timeout" "$ecs_name" >/dev/null 2>&1
stop_seconds=$((SECONDS - stop_start))
ecs_exit="$(podman inspect --format '{{.State.ExitCode}}' "$ecs_name")"
[ "$ecs_exit" = 0 ] || fail "the service exited $ecs_exit after SIGTERM (137: killed at the stop timeout)"
[ "$stop_seconds" -lt "$stop_timeout" ] || fail "SIGTERM took ${stop_seconds}s, the stop timeout is ${stop_timeout}s"
step "SIGTERM: the service exited 0 after ${stop_seconds}s (stop timeout ${stop_timeout}s)"
podman rm "$ecs_name" >/dev/null 2>&1 # off the compose network before `down` removes it
echo "  image acm-cert-export:local (service) $(size acm-cert-export:local); standin $(size acm-cert-export-standin:local); moto $(size acm-cert-export-moto:local)"
echo "  idle service container: $memory (podman stats, cgroup usage incl. page cache); node process RSS $rss"

# moto is PID 1 of its container: it must end on SIGTERM, not at compose's 10 s timeout.
moto_start=$SECONDS
(cd "$copy" && docker compose stop moto >/dev/null 2>&1)
moto_seconds=$((SECONDS - moto_start))
moto_exit="$(podman inspect --format '{{.State.ExitCode}}' "$(container moto)")"
[ "$moto_exit" = 0 ] || fail "moto exited $moto_exit on SIGTERM (137: killed after the timeout)"
step "SIGTERM: moto exited 0 after ${moto_seconds}s"

step "+ $down_cmd"
down_start=$SECONDS
(cd "$copy" && eval "$down_cmd") >"$work/down.log" 2>&1 || {
  cat "$work/down.log" >&2
  fail "'$down_cmd' failed"
}
wait "$up_pid" || true
up_pid=""
[ -z "$(compose_ids)" ] || fail "containers left after '$down_cmd': $(compose_ids | tr '\n' ' ')"
! podman network exists "${project}_default" || fail "network ${project}_default left after '$down_cmd'"
# podman 4.3's Docker API leaves the monitor (conmon) of a `docker compose exec` session that had
# a terminal running after the session and its container have ended (seen: still there minutes
# after `down`). Docker has no such process. Not the stack's: said in one line, then stopped.
monitors="$(pgrep -f "conmon .* -n ${project}_" || true)"
if [ -n "$monitors" ]; then
  step "podman left $(wc -w <<<"$monitors") exec-session monitor(s) (conmon) of removed containers; stopping them (PIDs $(tr "\n" " " <<<"$monitors"))"
  # shellcheck disable=SC2086 # one PID per word
  kill $monitors 2>/dev/null || true
fi
strays="$(find "$copy" \( ! -uid "$owner_uid" -o ! -gid "$owner_gid" \) -printf '%u:%g %p\n' | head -n 5)"
[ -z "$strays" ] || fail "files in the checkout not owned by its owner after the run: $strays"
step "down in $((SECONDS - down_start))s: no container, no network, every file in the checkout is uid $owner_uid's"
echo "container end-to-end test passed in $((SECONDS - started))s"
