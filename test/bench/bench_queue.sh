#!/bin/sh
# bench_queue.sh - a 200,000-message deferred queue: fill, postqueue -p/-j,
# flush, qmgr memory; Posthorn against Postfix (bench_queue.py, README.md).
#
#   sh test/bench/bench_queue.sh BUILD_DIR
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_queue.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_queue.py" "$@"
