#!/bin/sh
# bench_proxymap.sh - lookups per second from a private PostgreSQL server,
# directly (pgsql:) and through proxymap (proxy:pgsql:), Posthorn's postmap
# and instance against Postfix's with Debian's postfix-pgsql (see README.md
# here).
#
#   sh test/bench/bench_proxymap.sh BUILD_DIR
#
# The work is done by bench_proxymap.py next to this file, in a temporary
# directory that is removed at the end (BENCH_KEEP=1 keeps it).
# BENCH_PG_ROWS and BENCH_PG_QUERIES change the sizes.
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_proxymap.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_proxymap.py" "$@"
