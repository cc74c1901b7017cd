#!/bin/sh
# check-nonroot.sh - run the integration tests as an unprivileged user.
#
#   sh mk/check-nonroot.sh BUILD_DIR [pytest args...]
# Run as root.  The build and the tests are copied to a world-readable
# temporary directory first, since the checkout may sit where the
# unprivileged user cannot read (e.g. under /root).
set -e
build=$1; shift
user=nobody
tmp=$(mktemp -d /tmp/posthorn-nonroot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/build" "$tmp/test"
cp -a "$build/bin" "$build/libexec" "$tmp/build/"
cp -a test/integration "$tmp/test/"
cp -a mk conf "$tmp/"
chmod -R a+rX "$tmp"
chmod 755 "$tmp"
cd "$tmp"
runuser -u "$user" -- env PYTHONDONTWRITEBYTECODE=1 POSTHORN_BUILD="$tmp/build" \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q -ra test/integration "$@"
