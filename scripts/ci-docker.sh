#!/usr/bin/env bash
# CI step: build the agent and coordinator images and run test/docker-images.test.ts against them
# (broker, coordinator and agent in containers; the demo and a job under 0.5 CPU / 1 GB).
# With no image registry reachable, the base images come from scripts/make-base-image.sh. Uses a running
# engine if DOCKER_HOST (or the default socket) answers; otherwise starts dockerd for this run and stops it.
# Needs root. Prints the image sizes and build times the bench README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_MAJOR=${NODE_MAJOR:-24}
BASE_BUILD=edgeprobe-base:node${NODE_MAJOR}-build
BASE_RUNTIME=edgeprobe-base:node${NODE_MAJOR}
AGENT_IMAGE=edgeprobe-agent:ci
COORDINATOR_IMAGE=edgeprobe-coordinator:ci

if command -v apt-get >/dev/null; then
  need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

started_dockerd=""
if ! docker version >/dev/null 2>&1; then
  state=$(mktemp -d /var/tmp/edgeprobe-dockerd.XXXXXX)
  export DOCKER_HOST="unix://$state/docker.sock"
  # cleanup never changes this script's exit status (under set -e a failing trap command would)
  cleanup() {
    if [ -n "$started_dockerd" ]; then kill "$started_dockerd" 2>/dev/null || true; wait "$started_dockerd" 2>/dev/null || true; fi
    umount "$state/exec/netns/default" 2>/dev/null || true
    rm -rf "$state" 2>/dev/null || true
  }
  trap cleanup EXIT
  # no bridge or iptables: containers use the host network (builds too), as on a locked-down build host;
  # overlay2 where the filesystem allows it, else vfs (slower, works everywhere)
  for driver in overlay2 vfs; do
    dockerd --iptables=false --ip-forward=false --bridge=none --storage-driver="$driver" \
      --data-root "$state/data-$driver" --exec-root "$state/exec" --pidfile "$state/docker.pid" -H "$DOCKER_HOST" >"$state/dockerd.log" 2>&1 &
    started_dockerd=$!
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && break
      kill -0 "$started_dockerd" 2>/dev/null || break
      sleep 1
    done
    docker version >/dev/null 2>&1 && break
    tail -5 "$state/dockerd.log" >&2
    kill "$started_dockerd" 2>/dev/null || true; wait "$started_dockerd" 2>/dev/null || true; started_dockerd=""
  done
  [ -n "$started_dockerd" ] || { echo "ci-docker: dockerd did not start" >&2; exit 1; }
  echo "ci-docker: started dockerd ($driver)"
fi

t0=$SECONDS
if ! docker image inspect "$BASE_BUILD" "$BASE_RUNTIME" >/dev/null 2>&1; then
  NODE_MAJOR=$NODE_MAJOR bash scripts/make-base-image.sh "$BASE_BUILD" "$BASE_RUNTIME"
fi
echo "ci-docker: base images ready after $((SECONDS - t0)) s"
for target in agent coordinator; do
  image=$AGENT_IMAGE; [ "$target" = coordinator ] && image=$COORDINATOR_IMAGE
  t1=$SECONDS
  docker build -q --network host --target "$target" \
    --build-arg NODE_IMAGE="$BASE_BUILD" --build-arg RUNTIME_IMAGE="$BASE_RUNTIME" -t "$image" . >/dev/null
  echo "ci-docker: $image built in $((SECONDS - t1)) s, $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
done

EDGEPROBE_DOCKER_AGENT_IMAGE=$AGENT_IMAGE EDGEPROBE_DOCKER_COORDINATOR_IMAGE=$COORDINATOR_IMAGE EDGEPROBE_DOCKER_BASE_IMAGE=$BASE_RUNTIME \
  node --import tsx --test --test-concurrency=1 test/docker-images.test.ts
echo "ci-docker: done in $((SECONDS - t0)) s"
