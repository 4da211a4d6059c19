# syntax=docker/dockerfile:1
# The service image (target "service", what ECS runs and docker compose starts), and for docker
# compose only: the local tools image (target "standin": the Run Command stand-in and the seeding
# step) and the emulator (target "moto": moto with the project's ACM patch, as the tests run it).
# The service image runs the production bundle (`npm run build`: service/build.ts) built here
# from the repository's TypeScript with the locked dependencies; the standin image runs the
# TypeScript directly with Node 24's type stripping, as the tests do.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The bundle: the production dependencies above plus the bundler (esbuild, a dev dependency, at
# the version package-lock.json locks, installed beside them rather than with every dev
# dependency), then `node service/build.ts` writes dist/.
FROM deps AS build
RUN version="$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")" \
  && npm install --prefix /opt/esbuild --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "esbuild@${version}" \
  && ln -s /opt/esbuild/node_modules/esbuild node_modules/esbuild \
  && npm cache clean --force
COPY service/build.ts ./service/build.ts
COPY service/src ./service/src
RUN node service/build.ts service

FROM ${NODE_IMAGE} AS service
# The one version number, package.json's (service/src/version.ts): whatever builds the image passes
# it (docker-compose.yml, the stack's image asset, npm run bench -- --image); a unit test checks
# that they agree with package.json (service/test/unit/build/one-version.test.ts).
ARG VERSION
LABEL org.opencontainers.image.title="acm-cert-export" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT-0"
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
# The bundle is the whole program: no node_modules, no TypeScript sources.
COPY --from=build --chown=root:root /app/dist ./dist
# /tmp is the one writable path: ECS runs the container with a read-only root filesystem and
# mounts a task volume (a bind mount) there. Fargate gives such a volume the owner and mode of
# the image's VOLUME path of the same name (root 0755, unwritable to the node user, without
# one), so /tmp is declared here, sticky and world-writable like any /tmp. Set before VOLUME:
# changes to a volume path after its VOLUME line are discarded.
RUN install -d -m 1777 /tmp
VOLUME ["/tmp"]
# Files stay root-owned and read-only to the process; it runs as the image's unprivileged user.
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# API and worker in one process; API_ENABLED / WORKER_ENABLED switch either off. Source maps (of
# the service's own files) make stack traces name the TypeScript files and lines.
# npm run bench measures this command (bench/process-bench.ts reads it from here).
CMD ["node", "--enable-source-maps", "dist/main.mjs"]

# Local only (docker compose): the Run Command stand-in and the seeding step. Stand-in servers
# run ssm/install-acm-certificate.sh, which needs bash, openssl and the AWS CLI; the CLI goes
# into /app/.venv, where the stand-in looks for it (as after local/setup.sh), at the version
# local/requirements.txt pins. Runs as the owner of the bind-mounted state directory (the
# entrypoint below), as the no-Docker local run does: the install script then leaves ownership
# as it is. All npm dependencies: the seeding step uses dev-only SDK clients.
FROM ${NODE_IMAGE} AS standin
RUN apt-get update \
  && apt-get install -y --no-install-recommends bash ca-certificates openssl python3 python3-venv \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY local/requirements.txt ./local/requirements.txt
RUN python3 -m venv .venv \
  && .venv/bin/pip install --no-cache-dir "$(grep -E '^awscli==' local/requirements.txt)"
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY service/src ./service/src
COPY ssm ./ssm
COPY local ./local
COPY infra/lib/resource-definitions.ts infra/lib/service-environment.ts ./infra/lib/
# What it writes into the bind-mounted ./.state belongs to that directory's owner, not to root.
ENTRYPOINT ["/app/local/containers/as-state-owner.sh"]

# Local only (docker compose): the emulator exactly as the tests and the no-Docker run start it:
# moto at the version local/requirements.txt pins, through local/moto/launch.py, with the
# patches beside it (acm_local_ca.py makes exported chains verify the certificate as ACM's do).
FROM python:3.11-slim-bookworm AS moto
WORKDIR /app
COPY local/requirements.txt ./local/requirements.txt
RUN pip install --no-cache-dir "$(grep -E '^moto\[server\]==' local/requirements.txt)"
COPY local/moto/launch.py local/moto/moto_patching.py local/moto/acm_local_ca.py \
  local/moto/acm_renewal.py local/moto/acm_events.py local/moto/events_envelope.py \
  local/moto/secretsmanager_deletion.py local/moto/dynamodb_atomic.py ./local/moto/
ENV MOTO_ACM_VALIDATION_WAIT=0
EXPOSE 5000
CMD ["python", "local/moto/launch.py", "0.0.0.0", "5000"]
