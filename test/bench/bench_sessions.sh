#!/bin/sh
# bench_sessions.sh - 10,000 SMTP sessions at once, then idle: greetings
# and whole-instance memory, Posthorn against Postfix (bench_sessions.py).
#
#   sh test/bench/bench_sessions.sh BUILD_DIR
set -e
[ -n "$1" ] || { echo "usage: sh test/bench/bench_sessions.sh BUILD_DIR" >&2; exit 2; }
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench_sessions.py" "$@"
