# edgeprobe: the coordinator and the agent images from one Dockerfile, one target each:
#   docker build --target agent -t edgeprobe-agent:0.1 .       (runs `agent --config /etc/edgeprobe/agent.json`)
#   docker build --target coordinator -t edgeprobe-coordinator:0.1 .   (`coordinator --config /etc/edgeprobe/coordinator.json`)
# Any other command replaces the default: docker run --rm edgeprobe-agent:0.1 demo
# Both run the shipped JavaScript (npm run build) as uid 1000 and write only under /var/lib/edgeprobe (the
# data volume, also the working directory). Multi-arch (Raspberry Pi 4/5 and Jetson are linux/arm64):
#   docker buildx build --platform linux/amd64,linux/arm64 --target agent -t edgeprobe-agent:0.1 .
# Where no registry is reachable, scripts/make-base-image.sh makes local base images; pass them as
#   --build-arg NODE_IMAGE=<build tag> --build-arg RUNTIME_IMAGE=<runtime tag>
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Toolchain for better-sqlite3, compiled from source on each platform instead of fetching a prebuilt binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# onnxruntime-node bundles its CPU libraries for linux x64 and arm64; its install script only downloads
# CUDA libraries (linux/x64 only). Build with --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 on NVIDIA x64.
ARG ONNXRUNTIME_NODE_INSTALL=skip
# build_from_source: compile better-sqlite3 here; nodedir: node-gyp uses the image's own headers, no download.
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} \
    npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY probes ./probes
COPY agent ./agent
COPY coordinator ./coordinator
COPY models ./models
COPY sim ./sim
COPY configs ./configs
COPY scripts ./scripts
# The app is exactly the npm package (its `files` list) plus the production dependencies, with only this
# platform's onnxruntime binaries (the package carries darwin, win32 and both linux arches: ~220 MB unused)
# and only the compiled better-sqlite3 module (not its C sources).
RUN npm run build \
 && npm pack --ignore-scripts --silent >/dev/null \
 && mkdir /app && tar xzf edgeprobe-*.tgz -C /app --strip-components=1 \
 && npm prune --omit=dev --no-audit --no-fund && mv node_modules /app/ \
 && ort=/app/node_modules/onnxruntime-node/bin/napi-v6 && arch="$(node -p process.arch)" \
 && find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && sq=/app/node_modules/better-sqlite3 && cp "$sq/build/Release/better_sqlite3.node" /tmp/ \
 && rm -rf "$sq/deps" "$sq/src" "$sq/build" && mkdir -p "$sq/build/Release" && mv /tmp/better_sqlite3.node "$sq/build/Release/" \
 && cd /app && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get(); require('onnxruntime-node')" \
 && node bin/edgeprobe.js --help >/dev/null

# The coordinator stores, dispatches and reports records; it never runs a model, so its app has no onnxruntime
# (45 MB on linux/x64). A model command run in it exits with EP_ONNXRUNTIME_NOT_INSTALLED.
FROM build AS coordinator-app
RUN rm -rf /app/node_modules/onnxruntime-node /app/node_modules/onnxruntime-common \
 && node /app/bin/edgeprobe.js --help >/dev/null

FROM ${RUNTIME_IMAGE} AS runtime
# Everything the services write lives on the data volume: the working directory (relative defaults such as
# .edgeprobe/), the cache (variants, generated models), temp files and the health beacon.
ENV NODE_ENV=production \
    EDGEPROBE_CACHE=/var/lib/edgeprobe/cache \
    EDGEPROBE_HEALTH_FILE=/var/lib/edgeprobe/health.json \
    TMPDIR=/var/lib/edgeprobe/tmp \
    HOME=/var/lib/edgeprobe
RUN mkdir -p /var/lib/edgeprobe/cache /var/lib/edgeprobe/tmp && chown -R 1000:1000 /var/lib/edgeprobe
VOLUME ["/var/lib/edgeprobe"]
WORKDIR /var/lib/edgeprobe
# uid 1000 is the "node" user of the official image; numeric so runAsNonRoot checks can verify it.
USER 1000:1000
# The running agent/coordinator rewrites EDGEPROBE_HEALTH_FILE every few seconds (core/health/health-file.ts);
# a missing, stale or failed file marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "/app/bin/edgeprobe.js", "health", "--max-age", "90"]
ENTRYPOINT ["node", "/app/bin/edgeprobe.js"]
CMD ["--help"]

FROM runtime AS coordinator
# Code stays owned by root and read-only for the service user (in both targets).
COPY --from=coordinator-app /app /app
CMD ["coordinator", "--config", "/etc/edgeprobe/coordinator.json"]

# last, so a plain `docker build .` makes the agent
FROM runtime AS agent
COPY --from=build /app /app
CMD ["agent", "--config", "/etc/edgeprobe/agent.json"]
