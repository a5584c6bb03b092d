#!/usr/bin/env bash
# Builds the reliabledemo/embedded-mongo:local image from a binary compiled on
# this host (the Dockerfile is FROM scratch: no build stage, no base image to pull).
#
# Usage: scripts/build-embedded-image.sh [image-tag]
set -euo pipefail

tag="${1:-reliabledemo/embedded-mongo:local}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

cd "$root"

# CGO_ENABLED=0: FerretDB's SQLite (modernc.org/sqlite) is pure Go, so the
# binary is static and runs in an empty image.
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$ctx/embedded-mongo" ./cmd/embedded-mongo

docker build -t "$tag" -f docker/embedded-mongo.Dockerfile "$ctx"

echo "built $tag"
