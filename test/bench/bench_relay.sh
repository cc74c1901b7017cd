#!/bin/sh
# bench_relay.sh - relay rate through the SMTP client to smtp-sink, Posthorn
# against a private Postfix instance (see README.md here).
#
#   sh test/bench/bench_relay.sh BUILD_DIR        (make bench)
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_relay.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_relay.py" "$@"
