# syntax=docker/dockerfile:1

# One image for the API and the four workers; docker-compose.yml picks the
# process with `command`. There is no build step: tsx compiles the TypeScript
# when a process starts, which is why tsx is a runtime dependency.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies: rebuilt only when package.json or the lockfile changes ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project's postinstall (Prisma generate) needs the
# sources, which are copied in the next stage so that this layer stays cached
# while they change. The dependencies' install scripts are not needed:
# prisma/@prisma/engines would only try to download native engines (the project
# uses Prisma's JS engine with driver adapters; see prisma.config.ts),
# and esbuild, @swc/core and libsql find their platform binaries through
# optional dependencies, which npm still installs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE}
# API_HOST: inside a container the API must listen on every interface, or
# published ports (and other containers) cannot reach it.
ENV NODE_ENV=production \
    API_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The postinstall's work: compose the Prisma schemas and generate the eight
# clients into generated/. Offline (no engine download), so it also builds
# where only the npm registry is reachable.
# data/ is where the SQLite defaults live, for `docker run` without a database
# URL; the unprivileged user must be able to write there.
RUN npm run db:generate \
 && mkdir -p data \
 && chown node:node data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# Liveness only: /health/ready also fails while Temporal or a database is down,
# and a restart would not fix that. docker-compose.yml checks readiness instead.
# Node rather than curl: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node --import tsx rather than npm/npx: one process, which receives SIGTERM
# itself and drains in-flight requests (npm does not reliably forward signals).
CMD ["node", "--import", "tsx", "src/api/server.ts"]
