#!/bin/sh
# check-nonroot.sh - run the integration tests as an unprivileged user,
# then "make run" and "make stop" as that user.
#
#   sh mk/check-nonroot.sh BUILD_DIR [pytest args...]
# Run as root.  The build and the tests are copied to a world-readable
# temporary directory first, since the checkout may sit where the
# unprivileged user cannot read (e.g. under /root; test/bench too: some
# tests share its clients); make run gets a copy
# of the whole tree (BUILD_DIR as its build/) that the user owns.  When
# something already listens on make run's port 2525 (a make run of
# root's), that part is skipped, and says so.
set -e
build=$1; shift
top=$(pwd)
user=nobody
tmp=$(mktemp -d /tmp/posthorn-nonroot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/build" "$tmp/test"
cp -a "$build/bin" "$build/libexec" "$tmp/build/"
cp -a test/integration test/bench "$tmp/test/"
cp -a mk conf man "$tmp/"
chmod -R a+rX "$tmp"
chmod 755 "$tmp"
cd "$tmp"
runuser -u "$user" -- env PYTHONDONTWRITEBYTECODE=1 POSTHORN_BUILD="$tmp/build" \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q -ra test/integration "$@"

if ss -ltn 'sport = :2525' 2>/dev/null | grep -q LISTEN; then
    echo "check-nonroot: port 2525 is taken: make run as $user skipped"
    exit 0
fi
copy="$tmp/tree"
mkdir "$copy"
(cd "$top" && tar --exclude=./.git --exclude=./run --exclude='./build*' -cf - .) |
    tar -C "$copy" -xf -
case $build in /*) src=$build ;; *) src=$top/$build ;; esac
cp -a "$src" "$copy/build"
chown -R "$user" "$copy"
as_user() { runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$copy" "$@"; }
as_user make -C "$copy" run
as_user /usr/bin/python3 -c 'import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2525, timeout=10)
code = s.ehlo()[0]
s.quit()
sys.exit(code != 250)' || { as_user make -C "$copy" stop; echo "check-nonroot: make run as $user: no SMTP on 2525" >&2; exit 1; }
as_user make -C "$copy" stop
echo "check-nonroot: make run and make stop as $user: ok"
