#!/bin/sh
# mkman.sh - the manual pages of a build: postconf(5) generated from the
# parameter table, and the hand-written pages of man/.
#
#   sh mk/mkman.sh BUILD_DIR [OUT_DIR [SRC_DIR]]
#
# OUT_DIR defaults to BUILD_DIR/man, SRC_DIR to the man/ directory next
# to this script's mk/.  BUILD_DIR/bin/postconf -d gives the names and
# defaults of every parameter (lib/global/mail_params.c); SRC_DIR holds
#   postconf.5.head    the beginning of postconf(5), roff
#   postconf.5.tail    (optional) its end, after the parameters
#   postconf.5.params  one description per parameter:
#                        NAME                  (at the start of a line)
#                          roff text           (one or more lines, indented
#                                               by white space, which is
#                                               removed)
#                          %default TEXT       (optional: shown instead of
#                                               the value of postconf -d,
#                                               for defaults computed on
#                                               the host that runs it)
#                      lines starting with '#', and empty lines, are
#                      ignored
#   *.1 *.5 *.8        the hand-written pages
# OUT_DIR gets postconf.5 (one .TP entry per parameter, in postconf -d
# order: the name, "(default: VALUE)" and the description) and a copy of
# every hand-written page.  In every page "@NAME@" becomes the default
# of parameter NAME (e.g. @config_directory@, @mail_version@), so the
# pages name the paths this build was made with.
#
# The generator fails (exit 1) when postconf -d prints a parameter that
# has no description, when a description is for a name postconf -d does
# not print, or when a page names an unknown @NAME@: that is what keeps
# postconf(5) and postconf -d from disagreeing.  Needs only POSIX sh
# and awk (mawk, gawk).
set -e

usage() {
    echo "usage: sh mk/mkman.sh BUILD_DIR [OUT_DIR [SRC_DIR]]" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi
build=$1
out=${2:-$build/man}
here=$(cd "$(dirname "$0")" && pwd)
src=${3:-$here/../man}
postconf=$build/bin/postconf

[ -x "$postconf" ] || { echo "mkman: $postconf: not found (build first)" >&2; exit 1; }
for f in postconf.5.head postconf.5.params; do
    [ -f "$src/$f" ] || { echo "mkman: $src/$f: not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkman.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# An empty configuration directory: postconf -d then depends on nothing
# but the build (and, for myhostname and the like, the host).
mkdir "$tmp/conf"
: > "$tmp/conf/main.cf"
: > "$tmp/conf/master.cf"
if ! "$postconf" -c "$tmp/conf" -d > "$tmp/defaults" 2> "$tmp/errors"; then
    cat "$tmp/errors" >&2
    echo "mkman: $postconf -d failed" >&2
    exit 1
fi
if [ -s "$tmp/errors" ]; then
    cat "$tmp/errors" >&2
    echo "mkman: $postconf -d complained" >&2
    exit 1
fi

# The awk program of both steps: DEFAULTS is postconf -d's output.  It
# reads the defaults into def[], and then either the parameter
# descriptions (mode "params": writes postconf.5's entries) or a page
# (mode "page": replaces @NAME@).
cat > "$tmp/mkman.awk" <<'EOF'
# roff - TEXT as roff text: backslash and minus escaped, and a break
# point after each comma so that a list without spaces can wrap
function roff(text,    out, c, i) {
    out = ""
    for (i = 1; i <= length(text); i++) {
        c = substr(text, i, 1)
        if (c == "\\")
            out = out "\\e"
        else if (c == "-")
            out = out "\\-"
        else if (c == ",")
            out = out ",\\:"
        else
            out = out c
    }
    return out
}

# subst - LINE with every @NAME@ of a known parameter replaced
function subst(line,    out, name, rest) {
    out = ""
    while (match(line, /@[A-Za-z0-9_]+@/)) {
        name = substr(line, RSTART + 1, RLENGTH - 2)
        if (!(name in def)) {
            printf("mkman: %s, line %d: unknown parameter @%s@\n",
                   FILENAME, FNR, name) > "/dev/stderr"
            failed = 1
            out = out substr(line, 1, RSTART + RLENGTH - 1)
        } else {
            out = out substr(line, 1, RSTART - 1) roff(def[name])
        }
        line = substr(line, RSTART + RLENGTH)
    }
    return out line
}

FILENAME == DEFAULTS {
    # "name = value" or "name =" (empty)
    eq = index($0, " =")
    if (eq == 0) {
        printf("mkman: bad postconf -d line: %s\n", $0) > "/dev/stderr"
        failed = 1
        next
    }
    name = substr($0, 1, eq - 1)
    value = substr($0, eq + 2)
    sub(/^ /, "", value)
    def[name] = value
    order[++count] = name
    next
}

MODE == "page" {
    print subst($0)
    next
}

# MODE == "params": the descriptions
/^#/ || /^[ \t]*$/ {
    next
}
/^[^ \t]/ {
    cur = $0
    if (cur !~ /^[A-Za-z0-9_]+$/) {
        printf("mkman: %s, line %d: bad parameter name: %s\n",
               FILENAME, FNR, cur) > "/dev/stderr"
        failed = 1
    }
    if (cur in desc) {
        printf("mkman: %s, line %d: %s is described twice\n",
               FILENAME, FNR, cur) > "/dev/stderr"
        failed = 1
    }
    desc[cur] = ""
    where[cur] = FNR
    next
}
{
    if (cur == "") {
        printf("mkman: %s, line %d: text before the first name\n",
               FILENAME, FNR) > "/dev/stderr"
        failed = 1
        next
    }
    line = $0
    sub(/^[ \t]+/, "", line)
    if (line ~ /^%default /) {
        shown[cur] = substr(line, 10)
        next
    }
    desc[cur] = desc[cur] subst(line) "\n"
}

END {
    if (MODE == "page")
        exit failed
    for (i = 1; i <= count; i++)
        if (!(order[i] in desc) || desc[order[i]] == "")
            nodesc[++nn] = order[i]
    for (name in desc)
        if (!(name in def))
            unknown[++nu] = name
    if (nn > 0) {
        printf("mkman: %d parameter(s) of postconf -d without a description in %s:\n",
               nn, PARAMS) > "/dev/stderr"
        for (i = 1; i <= nn; i++)
            printf("  %s\n", nodesc[i]) > "/dev/stderr"
        failed = 1
    }
    if (nu > 0) {
        printf("mkman: %d description(s) in %s for parameters that postconf -d does not print:\n",
               nu, PARAMS) > "/dev/stderr"
        for (i = 1; i <= nu; i++)
            printf("  %s (line %d)\n", unknown[i], where[unknown[i]]) > "/dev/stderr"
        failed = 1
    }
    if (failed)
        exit 1
    for (i = 1; i <= count; i++) {
        name = order[i]
        print ".TP"
        if (name in shown)
            value = shown[name]
        else if (def[name] == "")
            value = "empty"
        else
            value = "\\fI" roff(def[name]) "\\fR"
        printf("\\fB%s\\fR (default: %s)\n", name, value)
        printf("%s", desc[name])
    }
}
EOF

run_awk() {
    awk -v DEFAULTS="$tmp/defaults" -v PARAMS="$src/postconf.5.params" \
        -v MODE="$1" -f "$tmp/mkman.awk" "$tmp/defaults" "$2"
}

status=0
run_awk page "$src/postconf.5.head" > "$tmp/postconf.5" || status=1
run_awk params "$src/postconf.5.params" > "$tmp/entries" || status=1
if [ $status -ne 0 ]; then
    echo "mkman: postconf(5) not written" >&2
    exit 1
fi
cat "$tmp/entries" >> "$tmp/postconf.5"
if [ -f "$src/postconf.5.tail" ]; then
    run_awk page "$src/postconf.5.tail" >> "$tmp/postconf.5" || exit 1
fi

# The pages are made in a directory of their own and copied into OUT_DIR
# only when all of them could be made.
mkdir "$tmp/pages"
pages=0
for page in "$src"/*.1 "$src"/*.5 "$src"/*.8; do
    [ -f "$page" ] || continue
    run_awk page "$page" > "$tmp/pages/$(basename "$page")" || status=1
    pages=$((pages + 1))
done
if [ $status -ne 0 ]; then
    echo "mkman: pages not written" >&2
    exit 1
fi
cp "$tmp/postconf.5" "$tmp/pages/postconf.5"
mkdir -p "$out"
cp "$tmp"/pages/* "$out/"
params=$(wc -l < "$tmp/defaults")
echo "mkman: $out: postconf.5 ($((params)) parameters) and $pages other pages"
