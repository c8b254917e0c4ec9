#!/usr/bin/env bash
# The blog example on a real PostgreSQL: installs Debian's `postgresql` if its binaries are
# missing, starts a throwaway cluster (initdb into a temp dir, trust auth, listening on a Unix
# socket in that dir only), runs `examples/tests/blog_postgres.rs` against it, then stops the
# cluster and removes the dir. Fails if any of that cannot be done: CI always runs these tests.
# Run by `.ci/run` (step 4g); runs by hand too, as root or not.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian keeps the server's binaries off PATH, in /usr/lib/postgresql/<major>/bin.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(pg_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  bin=$(pg_bin)
fi
[ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] \
  || { echo "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"; exit 1; }
"$bin/postgres" --version

# initdb refuses to run as root: the cluster belongs to an unprivileged user.
if [ "$(id -u)" = 0 ]; then
  user=typhoonpg
  id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  as_user="runuser -u $user --"
else
  user=$(id -un)
  as_user=""
fi

dir=$(mktemp -d /tmp/typhoon-pg.XXXXXX)
chown "$user" "$dir"
pg_ctl="$as_user $bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 60"
cleanup() {
  $pg_ctl -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

$as_user "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --no-locale --no-sync >/dev/null
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
# A throwaway cluster: durability buys nothing here.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
$pg_ctl start >/dev/null

# The socket's directory is the URL's host, percent-encoded.
export TYPHOON_TEST_POSTGRES_URL="postgresql://$user@${dir//\//%2F}/postgres"
export TYPHOON_TEST_PG_STOP="$pg_ctl -m fast stop"
export TYPHOON_TEST_PG_START="$pg_ctl start"
echo "cluster up: $TYPHOON_TEST_POSTGRES_URL"

log=$(mktemp)
status=0
# `--workspace --all-features`, as step 4: the same features, so nothing is rebuilt but the test.
cargo test --workspace --all-features --test blog_postgres 2>&1 | tee "$log" || status=$?
# A test that found no cluster says "skipped": here that is a failure.
if grep -q 'skipped: set TYPHOON_TEST_POSTGRES_URL' "$log"; then
  echo "blog_postgres tests skipped although the cluster was set up"; status=1
fi
grep -q '^test result: ok\. [1-9]' "$log" || status=1
rm -f "$log"
[ "$status" = 0 ] || { echo "--- server log"; tail -n 30 "$dir/server.log" || true; }
exit "$status"
