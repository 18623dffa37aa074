#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts: a development CA + broker certificate, and broker users
# for the coordinator, its CLI (jobs submit --broker, jobs cancel) and the compose agent. Usage: scripts/compose-secrets.sh [ROOT] [extra broker host names]
# ROOT defaults to the repository; files land in ROOT/secrets (git- and docker-ignored).
# Needs node and mosquitto_passwd (apt-get install mosquitto, or see docs/deploy.md for the container way).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-$repo}"
extra_hosts="${2:-}"
edgeprobe() { node "$repo/bin/edgeprobe.js" "$@"; }

hosts="mosquitto,localhost,127.0.0.1${extra_hosts:+,$extra_hosts}"
edgeprobe certs dev --out "$root/secrets/certs" --hosts "$hosts"
mkdir -p "$root/secrets/mosquitto"
edgeprobe broker add-user coordinator --passwd "$root/secrets/mosquitto/passwd" --secrets "$root/secrets/users"
edgeprobe broker add-user coordinator-cli --passwd "$root/secrets/mosquitto/passwd" --secrets "$root/secrets/users"
edgeprobe broker add-user compose-agent-1 --passwd "$root/secrets/mosquitto/passwd" --secrets "$root/secrets/users"

cat <<NOTE

Secrets are in $root/secrets. The containers run as non-root users and must be able to read them:
  sudo chown 1883:1883 $root/secrets/mosquitto/passwd $root/secrets/certs/server.key   # mosquitto (uid 1883)
  sudo chown 1000:1000 $root/secrets/users/*.password                                  # edgeprobe (uid 1000)
Then: docker compose up -d --build
NOTE
