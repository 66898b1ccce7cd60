#!/usr/bin/env bash
# Makes the `vector` extension (pgvector) available to the PostgreSQL the tests use, trying in
# order: it is there already; the distribution's package (postgresql-<major>-pgvector, from the
# PostgreSQL project's apt repository on most machines); a build from a source tarball, cached
# under ~/.cache/lattice/pgvector/<version>/ so that later runs only install the built files.
# Where none of these works it says why and exits 0: the retrieval tests of the pgvector path
# then report themselves skipped, and the RAG service falls back to an exact scan.
#
#   DATABASE_URL               the server to check (default postgres://postgres@127.0.0.1:5432/postgres,
#                              the one the test harness uses)
#   PGVECTOR_SOURCE            source tarball (default ../shared/vendor/pgvector-<version>.tar.gz
#                              beside the repository)
#   LATTICE_PGVECTOR_VERSION   version of that tarball (default below)
#   LATTICE_PGVECTOR_CACHE     cache root (default ~/.cache/lattice/pgvector)
set -euo pipefail

version="${LATTICE_PGVECTOR_VERSION:-0.8.6}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source_tarball="${PGVECTOR_SOURCE:-$repo_root/../shared/vendor/pgvector-$version.tar.gz}"
# in a linked git worktree, beside the main checkout too
if [[ -z "${PGVECTOR_SOURCE:-}" && ! -f "$source_tarball" ]]; then
  common="$(git -C "$repo_root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  [[ -n "$common" && -f "$(dirname "$common")/../shared/vendor/pgvector-$version.tar.gz" ]] &&
    source_tarball="$(cd "$(dirname "$common")/../shared/vendor" && pwd)/pgvector-$version.tar.gz"
fi
cache_root="${LATTICE_PGVECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lattice/pgvector}"
server_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say() { echo "pgvector: $*" >&2; }
give_up() {
  say "$1"
  say "the vector extension is not available: retrieval tests of the pgvector path are skipped and the RAG service uses an exact scan"
  exit 0
}

command -v psql >/dev/null || give_up "psql is not installed, so the server cannot be asked"

sql() { psql "$server_url" -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>/dev/null; }

available() {
  [[ "$(sql "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")" == "1" ]]
}

major="$(sql "SELECT current_setting('server_version_num')::int / 10000")" ||
  give_up "no PostgreSQL answers at ${server_url%%@*}@… (start one, or set DATABASE_URL)"

if available; then
  say "vector is available to PostgreSQL $major"
  exit 0
fi

# Installing into the server's directories takes root (or their owner); say so instead of failing.
as_root() {
  if [[ "$(id -u)" == "0" ]]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}
root_hint="installing an extension into PostgreSQL's own directories needs root: run tools/pgvector/ensure-pgvector.sh as root (or with sudo), or install postgresql-$major-pgvector from https://wiki.postgresql.org/wiki/Apt"

# 1. the distribution's package, where the configured apt sources carry one
if command -v apt-get >/dev/null && command -v apt-cache >/dev/null; then
  package="postgresql-$major-pgvector"
  if apt-cache show "$package" >/dev/null 2>&1; then
    say "installing $package"
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >&2 && available; then
      say "vector is available to PostgreSQL $major (from $package)"
      exit 0
    fi
    say "installing $package did not make vector available; trying the source"
  fi
fi

# 2. built from the source tarball, once per machine, under a lock so parallel runs build it once
[[ -f "$source_tarball" ]] || give_up "no package for PostgreSQL $major and no source tarball at $source_tarball (set PGVECTOR_SOURCE)"

pg_config="/usr/lib/postgresql/$major/bin/pg_config"
[[ -x "$pg_config" ]] || pg_config="$(command -v pg_config || true)"
if [[ -z "$pg_config" || ! -f "$("$pg_config" --includedir-server 2>/dev/null)/postgres.h" ]]; then
  if command -v apt-get >/dev/null; then
    say "installing postgresql-server-dev-$major (pg_config and server headers, to build pgvector)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-server-dev-$major" >&2 ||
      give_up "could not install postgresql-server-dev-$major; $root_hint"
    pg_config="/usr/lib/postgresql/$major/bin/pg_config"
  fi
  [[ -x "$pg_config" ]] || give_up "no pg_config for PostgreSQL $major (install its server development files)"
fi
command -v make >/dev/null && command -v gcc >/dev/null ||
  give_up "building pgvector needs make and gcc"

dir="$cache_root/$version/pg$major"
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [[ ! -f "$dir/built" ]]; then
  say "building pgvector $version for PostgreSQL $major from $source_tarball (first run on this machine only)"
  started=$(date +%s)
  rm -rf "$dir/src"
  mkdir -p "$dir/src"
  tar xzf "$source_tarball" -C "$dir/src" --strip-components=1
  # OPTFLAGS="" leaves out -march=native, so the build runs on any x86-64 machine
  make -C "$dir/src" PG_CONFIG="$pg_config" OPTFLAGS="" >&2 ||
    give_up "building pgvector failed (output above)"
  touch "$dir/built"
  say "built in $(($(date +%s) - started))s into $dir/src"
fi

say "installing pgvector $version into PostgreSQL $major"
as_root make -C "$dir/src" install PG_CONFIG="$pg_config" OPTFLAGS="" >&2 ||
  give_up "$root_hint"
available || give_up "installed pgvector, yet the server does not list vector (is $pg_config the server's own?)"
say "vector is available to PostgreSQL $major (built from $(basename "$source_tarball"))"
