#!/usr/bin/env bash
# A private, throwaway PostgreSQL 15 for the tests (the API suite runs against it as well as
# against SQLite; see the Makefile's native-test).
#
#   postgres.sh ensure        install Debian's postgresql-15 when it is missing
#   postgres.sh start DIR     initdb a cluster in DIR and start it; prints its URL on stdout
#   postgres.sh stop DIR      stop that cluster (fast shutdown) and remove DIR
#   postgres.sh run CMD...    ensure, start a cluster in a fresh temporary directory, run CMD
#                             with WITNESS_TEST_POSTGRES_URL set to its URL, then always stop
#                             it and remove the directory; exits with CMD's status
#
# The cluster runs as the `postgres` OS user (PostgreSQL refuses to run as root, and CI runs as
# root) and listens only on a Unix socket in DIR: no TCP port at all, so clusters started at
# the same time never race for a port. Authentication is `trust` for local connections, and
# only the socket in DIR reaches the cluster. The URL names the socket directory as the host,
# percent-encoded: postgres://postgres@%2Ftmp%2Fwitness-pg.XXXX/postgres (libpq and
# tokio-postgres both read a host that decodes to an absolute path as a socket directory).
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
# Written by `start` into DIR; `stop` removes only directories that carry it.
MARKER=witness-test-postgres

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'postgres.sh: %s\n' "$*" >&2
  exit 1
}
usage() { die "usage: $0 ensure | start DIR | stop DIR | run CMD..."; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) for: $*"
  fi
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -u postgres -- "$@"
  else
    die "need root (or sudo) to run as the postgres user: $*"
  fi
}

install_postgres() {
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends postgresql-15 >&2
}

ensure() {
  [ -x "$PG_BIN/postgres" ] && return 0
  log "installing PostgreSQL 15 (Debian's postgresql-15)"
  # Update the package lists only when they do not know the package, or when installing
  # from the lists we have fails (stale lists name files the mirror no longer has).
  if ! apt-cache show postgresql-15 >/dev/null 2>&1 || ! install_postgres; then
    as_root apt-get update -qq >&2
    install_postgres
  fi
  [ -x "$PG_BIN/postgres" ] || die "postgresql-15 is installed but $PG_BIN/postgres is missing"
}

# Percent-encodes every byte but the unreserved ones (RFC 3986), for a URL's host.
percent_encode() {
  local LC_ALL=C
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
    [A-Za-z0-9._~-]) out+=$c ;;
    *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

start() {
  [ $# = 1 ] || usage
  [ -x "$PG_BIN/postgres" ] || die "PostgreSQL 15 is not installed: run $0 ensure"
  id postgres >/dev/null 2>&1 || die "there is no postgres OS user (the postgresql-15 package makes it)"
  mkdir -p -- "$1"
  local dir
  dir=$(cd -- "$1" && pwd -P)
  case $dir in
  *"'"* | *\\* | *$'\n'*) die "$dir: quotes, backslashes and newlines in the path are not supported" ;;
  esac
  # The socket's path (DIR/.s.PGSQL.5432) must fit a sockaddr_un (107 bytes).
  [ $((${#dir} + 14)) -le 107 ] || die "$dir is too long for a Unix socket path; use a shorter one"
  if [ -e "$dir/data" ] || [ -n "$(ls -A -- "$dir")" ]; then
    die "$dir is not empty (a cluster there already? stop it with $0 stop $dir)"
  fi
  # DIR holds the socket (reachable by the user who runs the tests), the log and data/ (the
  # cluster's files, which initdb makes 0700).
  [ "$(stat -c %U "$dir")" = postgres ] || as_root chown postgres: "$dir"
  as_postgres chmod 0755 "$dir"
  as_postgres test -w "$dir" || die "the postgres user cannot write to $dir (check its parents)"
  as_postgres touch "$dir/$MARKER"

  if ! as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
    --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $dir/data"
  fi
  # Settings for a throwaway test cluster that is deleted when the tests end.
  as_postgres sh -c 'cat >>"$1"' sh "$dir/data/postgresql.conf" <<EOF

# --- scripts/postgres.sh: a private test cluster ---
listen_addresses = ''               # no TCP at all: the Unix socket below only
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
port = 5432                         # names the socket file (.s.PGSQL.5432); no port is opened
max_connections = 300               # every test has its own database and connection pool
shared_buffers = 64MB
# No durability: this cluster only ever holds test data and is removed after the run, so
# nothing needs to survive a crash. Never use these settings for data you want to keep.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    start >/dev/null; then
    as_postgres cat "$dir/postgres.log" >&2 || true
    die "the cluster in $dir did not start"
  fi
  printf 'postgres://postgres@%s/postgres\n' "$(percent_encode "$dir")"
}

remove_dir() {
  rm -rf -- "$1" 2>/dev/null || as_root rm -rf -- "$1"
}

stop() {
  [ $# = 1 ] || usage
  local dir=$1
  [ -d "$dir" ] || return 0
  [ -e "$dir/$MARKER" ] || die "$dir was not made by $0 start; not removing it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
      as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
        log "could not stop the cluster in $dir (see $dir/postgres.log)"
    fi
  fi
  remove_dir "$dir"
}

run() {
  [ $# -gt 0 ] || usage
  ensure
  # In /tmp, not $TMPDIR: the socket's path has to stay short.
  local dir url status
  dir=$(mktemp -d /tmp/witness-pg.XXXXXXXX)
  # The cluster goes whatever happens to CMD or to this script: a signal ends the script
  # through exit, which runs the EXIT trap. Ctrl-C reaches CMD and the script together; a
  # TERM sent to the script alone takes effect once CMD (run in the foreground, so that it
  # keeps the terminal) has ended.
  # shellcheck disable=SC2064 # expand $dir now
  trap "cleanup '$dir'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  url=$(start "$dir")
  export WITNESS_TEST_POSTGRES_URL=$url
  log "PostgreSQL 15 at $url"
  status=0
  "$@" || status=$?
  exit "$status"
}

cleanup() {
  local dir=$1
  # In a subshell: a failure in stop must not replace CMD's exit status.
  if [ -e "$dir/$MARKER" ]; then
    (stop "$dir") || true
  fi
  [ ! -e "$dir" ] || remove_dir "$dir" || true
}

[ $# -gt 0 ] || usage
command=$1
shift
case $command in
ensure)
  [ $# = 0 ] || usage
  ensure
  ;;
start) start "$@" ;;
stop) stop "$@" ;;
run) run "$@" ;;
*) usage ;;
esac
