#!/usr/bin/env bash
# Obtains the helm binary the chart tests run and prints the directory holding it. Cached under
# ~/.cache/lattice/helm/<version>/, so only the first run on a machine builds anything.
#
#   LATTICE_HELM_BIN      a helm binary to use as is (its directory is printed)
#   LATTICE_HELM_VERSION  Helm release to build (default below)
#   LATTICE_HELM_CACHE    cache root (default ~/.cache/lattice/helm)
set -euo pipefail

version="${LATTICE_HELM_VERSION:-v3.21.4}"
cache_root="${LATTICE_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lattice/helm}"
dir="$cache_root/$version"

say() { echo "fetch-helm: $*" >&2; }

if [[ -n "${LATTICE_HELM_BIN:-}" ]]; then
  [[ -x "$LATTICE_HELM_BIN" ]] || { say "LATTICE_HELM_BIN=$LATTICE_HELM_BIN is not an executable"; exit 1; }
  dirname "$LATTICE_HELM_BIN"
  exit 0
fi

mkdir -p "$dir"

# Two test runs may start at once (parallel jest workers, two checkouts): one builds while the
# other waits, then finds helm in the cache.
exec 9>"$dir/.lock"
flock 9

# helm: built from the helm.sh/helm/v3 module through the Go module proxy. A small wrapper
# module requires it, so `go mod tidy` resolves the same dependency versions helm's own go.mod
# names. The version, and the Kubernetes version `helm template` and `helm lint` assume (that of
# the k8s.io modules it is built with), are stamped into the binary as helm's Makefile does.
if [[ ! -x "$dir/helm" ]]; then
  command -v go >/dev/null || { say "go is required to build helm (or set LATTICE_HELM_BIN)"; exit 1; }
  say "building helm $version from Go modules (first run only; several minutes)"
  started=$(date +%s)
  build="$(mktemp -d "$dir/build.XXXXXX")"
  trap 'rm -rf "$build"' EXIT
  (
    cd "$build"
    go mod init lattice.dev/helm >/dev/null 2>&1
    echo "require helm.sh/helm/v3 $version" >>go.mod
    printf 'package tools\n\nimport _ "helm.sh/helm/v3/cmd/helm"\n' >tools.go
    GOFLAGS=-mod=mod go mod tidy >&2
    k8s="$(GOFLAGS=-mod=mod go list -m -f '{{.Version}}' k8s.io/client-go)" # v0.<minor>.<patch>
    k8s_minor="$(echo "$k8s" | cut -d. -f2)"
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
    ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    for pkg in pkg/lint/rules pkg/chartutil; do
      ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
    done
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" \
      -o "$dir/helm.tmp" helm.sh/helm/v3/cmd/helm >&2
  )
  mv "$dir/helm.tmp" "$dir/helm"
  rm -rf "$build"
  trap - EXIT
  say "helm $version built in $(($(date +%s) - started))s"
fi

echo "$dir"
