#!/usr/bin/env bash
# Obtains the NATS server the test harness and `npm start` run, and prints its path. Built from
# the github.com/nats-io/nats-server/v2 Go module and cached under
# ~/.cache/lattice/nats-server/<version>/nats-server, so only the first run on a machine builds
# anything. Where it cannot be built (no Go, no module proxy), a nats-server on PATH is used, with
# a word on stderr that it is not the pinned release; without one either it fails saying so.
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

# A nats-server on PATH, when this release cannot be had here; says so, since it may be older.
fall_back() {
  local fallback
  fallback="$(command -v nats-server || true)"
  if [[ -n "$fallback" ]]; then
    say "$1: using $fallback ($("$fallback" --version 2>/dev/null || echo 'unknown version')) instead of $version"
    echo "$fallback"
    exit 0
  fi
  say "$1, and there is no nats-server on PATH: install Go (to build $version into $dir) or nats-server, or set NATS_URL to a running NATS server with JetStream"
  exit 1
}

command -v go >/dev/null || fall_back "go is not installed and $bin is not cached"

say "building nats-server $version from its Go module (first run on this machine only)"
started=$(date +%s)
mkdir -p "$dir"
# go install pins every dependency to the module's own go.sum; GOBIN points it at a scratch
# directory so a half-written binary never lands under the cached name.
build="$(mktemp -d "$dir/build.XXXXXX")"
trap 'rm -rf "$build"' EXIT
if ! CGO_ENABLED=0 GOBIN="$build" GOFLAGS=-trimpath go install -ldflags "-s -w" \
  "github.com/nats-io/nats-server/v2@$version" >&2; then
  fall_back "building nats-server $version failed (output above)"
fi
mv "$build/nats-server" "$bin"
say "built $bin in $(($(date +%s) - started))s"
echo "$bin"
