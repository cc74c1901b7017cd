#!/bin/sh
# deb.sh - build the Debian package of this tree (make deb).
#
#   sh mk/deb.sh [-j JOBS] [-v VERSION] OUTDIR
#
# The tree (what git tracks or would track: build directories, run/ and
# untracked files ignored by git are left out) is copied to OUTDIR/src/posthorn
# and built there with "dpkg-buildpackage -us -uc -b", so the tree itself
# and its build/ are untouched; the .deb (and .buildinfo, .changes) land in
# OUTDIR.  -v VERSION adds a debian/changelog entry for VERSION to the copy
# first (test/deb/run.sh builds an upgrade that way).  Prints the path of
# the .deb as its last line.
set -e
jobs=1
version=
while getopts j:v: opt; do
    case $opt in
    j) jobs=$OPTARG ;;
    v) version=$OPTARG ;;
    *) echo "usage: sh mk/deb.sh [-j JOBS] [-v VERSION] OUTDIR" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { echo "usage: sh mk/deb.sh [-j JOBS] [-v VERSION] OUTDIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
src=$out/src/posthorn

rm -rf "$out/src"
mkdir -p "$src"
# the files of the tree: tracked ones and new ones git does not ignore
# (a tree without git: everything but the build directories and run/)
cd "$top"
if git rev-parse --git-dir >/dev/null 2>&1; then
    # a tracked file deleted in the tree is not copied (tar warns and goes on)
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$src"
else
    tar --exclude='./build*' --exclude=./run --exclude=./.git -cf - . | tar -xf - -C "$src"
fi
cd "$src"
if [ -n "$version" ]; then
    maint=$(dpkg-parsechangelog -S Maintainer)
    dist=$(dpkg-parsechangelog -S Distribution)
    {
        printf 'posthorn (%s) %s; urgency=medium\n\n' "$version" "$dist"
        printf '  * Rebuild as %s.\n\n' "$version"
        printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
        cat debian/changelog
    } > debian/changelog.new
    mv debian/changelog.new debian/changelog
fi
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -f "$out"/posthorn*_"${version}"_*
DEB_BUILD_OPTIONS="parallel=$jobs${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" \
    dpkg-buildpackage -us -uc -b
[ -f "$out/src/posthorn_${version}_$arch.deb" ]
# the package, its -dbgsym, .buildinfo and .changes
mv "$out"/src/posthorn*_"${version}"_* "$out/"
echo "$out/posthorn_${version}_$arch.deb"
