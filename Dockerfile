# syntax=docker/dockerfile:1
# edgeprobe: ONE image for agent and coordinator; the command decides:
#   docker run IMAGE agent --config /etc/edgeprobe/agent.json
#   docker run IMAGE coordinator --config /etc/edgeprobe/coordinator.json
# Multi-arch (Raspberry Pi 4/5 and Jetson are linux/arm64):
#   docker buildx build --platform linux/amd64,linux/arm64 -t edgeprobe:0.1 .
# No Docker engine runs where this was written; scripts/docker-build-steps.ts replays these steps and
# test/deploy-files.test.ts lints this file (docs/deploy.md).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Toolchain for better-sqlite3, compiled from source on each platform instead of fetching a prebuilt binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# onnxruntime-node bundles its CPU libraries for linux x64 and arm64; its install script only downloads
# CUDA libraries (linux/x64 only). Build with --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 on NVIDIA x64.
ARG ONNXRUNTIME_NODE_INSTALL=skip
# build_from_source: compile better-sqlite3 here; nodedir: node-gyp uses the image's own headers, no download.
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} \
    npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    EDGEPROBE_CACHE=/var/lib/edgeprobe/cache \
    EDGEPROBE_HEALTH_FILE=/tmp/edgeprobe-health.json
WORKDIR /app
# Code stays owned by root and read-only for the service user; only /var/lib/edgeprobe is writable.
COPY --from=build /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY probes ./probes
COPY agent ./agent
COPY coordinator ./coordinator
COPY models ./models
COPY configs ./configs
RUN mkdir -p /var/lib/edgeprobe/cache && chown -R 1000:1000 /var/lib/edgeprobe
VOLUME ["/var/lib/edgeprobe"]
# uid 1000 is the "node" user of the official image; numeric so runAsNonRoot checks can verify it.
USER 1000:1000
# The running agent/coordinator rewrites EDGEPROBE_HEALTH_FILE every few seconds (core/health/health-file.ts);
# a missing, stale or failed file marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "/app/bin/edgeprobe.js", "health", "--max-age", "90"]
ENTRYPOINT ["node", "/app/bin/edgeprobe.js"]
CMD ["--help"]
