#!/usr/bin/env bash
# Makes local Node base images for the Dockerfile where no image registry is reachable, from Debian packages
# (debootstrap) and Node from the npm registry's node-linux-<arch> package:
#   BUILD tag:   Debian bookworm + Node + its headers + npm (the Dockerfile's build stage compiles better-sqlite3)
#   RUNTIME tag: Debian bookworm + Node only (what the images ship; headers and npm would add ~80 MB)
# Then: docker build --build-arg NODE_IMAGE=<BUILD> --build-arg RUNTIME_IMAGE=<RUNTIME> ...
# Usage: scripts/make-base-image.sh [BUILD_TAG] [RUNTIME_TAG]
#   NODE_MAJOR (default 24), DEBIAN_MIRROR (default: debootstrap's), CA_BUNDLE (default: the machine's bundle,
#   so npm inside the build trusts what the machine trusts). Needs root, debootstrap, docker, npm.
set -euo pipefail
NODE_MAJOR=${NODE_MAJOR:-24}
BUILD_TAG=${1:-edgeprobe-base:node${NODE_MAJOR}-build}
RUNTIME_TAG=${2:-edgeprobe-base:node${NODE_MAJOR}}
for tool in debootstrap docker npm tar; do
  command -v "$tool" >/dev/null || { echo "make-base-image: $tool is not installed (apt-get install debootstrap docker.io)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "make-base-image: debootstrap needs root" >&2; exit 1; }
case "$(dpkg --print-architecture)" in
  amd64) node_arch=x64 ;;
  arm64) node_arch=arm64 ;;
  *) echo "make-base-image: no node-linux package for $(dpkg --print-architecture)" >&2; exit 1 ;;
esac
ca=${CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
[ -r "$ca" ] || { echo "make-base-image: CA bundle $ca is not readable (set CA_BUNDLE)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

# minbase: essential packages + apt; ca-certificates for TLS from Node; passwd for the uid 1000 "node" user
# that the official image has (the Dockerfile runs as 1000:1000)
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" ${DEBIAN_MIRROR:-} >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
cp "$ca" "$root/etc/ssl/certs/edgeprobe-build-ca.crt"

(cd "$work" && npm pack --silent "node-linux-${node_arch}@${NODE_MAJOR}" >/dev/null && npm pack --silent "npm@11" >/dev/null)
mkdir -p "$work/node" "$work/npm"
tar xzf "$work"/node-linux-*.tgz -C "$work/node" --strip-components=1
tar xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
"$root/usr/local/bin/node" --version >/dev/null

import() { # rootfs dir, tag
  tar -C "$1" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/edgeprobe-build-ca.crt' \
    --change 'CMD ["node"]' - "$2" >/dev/null
  echo "$2: $(docker image inspect -f '{{.Size}}' "$2" | awk '{printf "%.0f MB", $1/1e6}')"
}
import "$root" "$RUNTIME_TAG"

mkdir -p "$root/usr/local/include" "$root/usr/local/lib/node_modules"
cp -a "$work/node/include/node" "$root/usr/local/include/node"
cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
import "$root" "$BUILD_TAG"
