#!/usr/bin/env bash
# Builds the reliabledemo/payments:local image of cmd/server, with its
# embedded store, from a binary compiled on this host (the Dockerfile is FROM
# scratch: no build stage, no base image to pull).
#
# Usage: scripts/build-server-image.sh [image-tag]
set -euo pipefail

tag="${1:-reliabledemo/payments:local}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

cd "$root"

# CGO_ENABLED=0: the embedded store's SQLite (modernc.org/sqlite) is pure Go,
# so the binary is static and runs in an empty image.
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$ctx/server" ./cmd/server

docker build -t "$tag" -f docker/server.Dockerfile "$ctx"

echo "built $tag"
