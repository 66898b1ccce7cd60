#!/usr/bin/env bash
# Obtains the etcd, kube-apiserver, kube-controller-manager and kubectl binaries the Kubernetes test tier runs against
# and prints the directory holding them. Cached under ~/.cache/lattice/kube/<version>/, so only
# the first run on a machine builds anything; a binary missing from the cache (kubectl, in a
# cache from before the tests used it) is built on its own.
#
#   KUBEBUILDER_ASSETS   a directory that already holds etcd, kube-apiserver and kubectl (as
#                        setup-envtest provides them): used as is
#   LATTICE_KUBE_VERSION Kubernetes release to build (default below)
#   LATTICE_KUBE_CACHE   cache root (default ~/.cache/lattice/kube)
set -euo pipefail

version="${LATTICE_KUBE_VERSION:-v1.34.4}"
cache_root="${LATTICE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lattice/kube}"
dir="$cache_root/$version"

say() { echo "kube-test-env: $*" >&2; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  for bin in etcd kube-apiserver kubectl; do
    [[ -x "$KUBEBUILDER_ASSETS/$bin" ]] || { say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no $bin"; exit 1; }
  done
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

mkdir -p "$dir"

# Two test runs may start at once (parallel jest projects, two checkouts): one builds while the
# other waits, then finds the binaries in the cache.
exec 9>"$dir/.lock"
flock 9

# etcd: the distribution's package is enough for a test control plane.
if [[ ! -x "$dir/etcd" ]]; then
  etcd_bin="$(command -v etcd || true)"
  if [[ -z "$etcd_bin" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      say "installing etcd-server with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >&2 ||
        { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >&2; }
      etcd_bin="$(command -v etcd)"
    else
      say "etcd not found: install it (Debian/Ubuntu: apt-get install etcd-server) or set KUBEBUILDER_ASSETS"
      exit 1
    fi
  fi
  ln -sf "$etcd_bin" "$dir/etcd"
fi

# kube-apiserver, kube-controller-manager and kubectl: built from the k8s.io/kubernetes module. That module points its
# k8s.io/* staging modules at local directories, so a small wrapper module pins each of them
# to the matching published v0.X.Y instead. Only the commands missing from the cache are built.
missing=()
for cmd in kube-apiserver kubectl kube-controller-manager; do
  [[ -x "$dir/$cmd" ]] || missing+=("$cmd")
done
if ((${#missing[@]} > 0)); then
  command -v go >/dev/null || { say "go is required to build ${missing[*]} (or set KUBEBUILDER_ASSETS)"; exit 1; }
  say "building ${missing[*]} $version from Go modules (first run only; several minutes)"
  started=$(date +%s)
  staging="v0${version#v1}"
  minor="$(echo "$version" | cut -d. -f2)"
  build="$(mktemp -d "$dir/build.XXXXXX")"
  trap 'rm -rf "$build"' EXIT
  (
    cd "$build"
    go mod init lattice.dev/kube-test-env >/dev/null 2>&1
    {
      echo "require k8s.io/kubernetes $version"
      for mod in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go \
        cloud-provider cluster-bootstrap code-generator component-base component-helpers \
        controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation \
        endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy \
        kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission \
        sample-apiserver sample-cli-plugin sample-controller; do
        echo "replace k8s.io/$mod => k8s.io/$mod $staging"
      done
    } >>go.mod
    {
      printf 'package tools\n\nimport (\n'
      for cmd in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
      printf ')\n'
    } >tools.go
    GOFLAGS=-mod=mod go mod tidy >&2
    for cmd in "${missing[@]}"; do
      CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
        -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
        -o "$dir/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2
    done
  )
  for cmd in "${missing[@]}"; do mv "$dir/$cmd.tmp" "$dir/$cmd"; done
  rm -rf "$build"
  trap - EXIT
  say "${missing[*]} built in $(($(date +%s) - started))s"
fi

echo "$dir"
