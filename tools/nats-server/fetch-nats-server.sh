#!/usr/bin/env bash
# Obtains the NATS server the test harness and `npm start` run, and prints its path. Built from
# the github.com/nats-io/nats-server/v2 Go module and cached under
# ~/.cache/lattice/nats-server/<version>/nats-server, so only the first run on a machine builds
# anything. Without Go and without a cached binary, a nats-server on PATH is used (with a word on
# stderr that it is not the pinned version); without either it fails.
#
#   LATTICE_NATS_SERVER_VERSION  release to build (default below)
#   LATTICE_NATS_SERVER_CACHE    cache root (default ~/.cache/lattice/nats-server)
set -euo pipefail

version="${LATTICE_NATS_SERVER_VERSION:-v2.15.2}"
cache_root="${LATTICE_NATS_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lattice/nats-server}"
dir="$cache_root/$version"
bin="$dir/nats-server"

say() { echo "nats-server: $*" >&2; }

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null; then
  fallback="$(command -v nats-server || true)"
  if [[ -n "$fallback" ]]; then
    say "go is not installed and $bin is not cached: using $fallback ($("$fallback" --version 2>/dev/null || echo 'unknown version')) instead of $version"
    echo "$fallback"
    exit 0
  fi
  say "cannot get nats-server $version: install Go (to build it into $dir) or put a nats-server on PATH, or set NATS_URL to a running server"
  exit 1
fi

say "building nats-server $version from its Go module (first run on this machine only)"
started=$(date +%s)
mkdir -p "$dir"
# go install pins every dependency to the module's own go.sum; GOBIN points it at a scratch
# directory so a half-written binary never lands under the cached name.
build="$(mktemp -d "$dir/build.XXXXXX")"
trap 'rm -rf "$build"' EXIT
CGO_ENABLED=0 GOBIN="$build" GOFLAGS=-trimpath go install -ldflags "-s -w" \
  "github.com/nats-io/nats-server/v2@$version" >&2
mv "$build/nats-server" "$bin"
say "built $bin in $(($(date +%s) - started))s"
echo "$bin"
