#!/bin/sh
# bench_postmap.sh - time and peak memory of postmap building a
# 1,000,000-line hash: table and answering 100,000 queries, Posthorn
# against Postfix's /usr/sbin/postmap on the same file (see README.md here).
#
#   sh test/bench/bench_postmap.sh BUILD_DIR
#
# The work is done by bench_postmap.py next to this file, in a temporary
# directory that is removed at the end (BENCH_KEEP=1 keeps it).
# BENCH_LINES and BENCH_QUERIES change the sizes; BENCH_BTREE=1 adds btree:.
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_postmap.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_postmap.py" "$@"
