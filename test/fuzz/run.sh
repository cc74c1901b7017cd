#!/bin/sh
# run.sh - build and run Posthorn's libFuzzer harnesses (test/fuzz/fuzz_*.c).
#
#   sh test/fuzz/run.sh [SECONDS [HARNESS...]]
#
# Compiles lib/*/*.c, smtpd/smtpd_data.c and pop3d/pop3d_parse.c with clang and
# -fsanitize=fuzzer-no-link,address,undefined into test/fuzz/build/, links
# each harness with -fsanitize=fuzzer, then runs every harness (or only
# the named ones, e.g. fuzz_attr) for SECONDS seconds (default 30), each
# starting from a temporary copy of test/fuzz/corpus/<harness>/ so the
# repository's seed corpus is never written.  Crash inputs are saved in
# test/fuzz/crashes/.  Exits non-zero if a build fails or any harness
# finds a crash, leak, timeout or out-of-memory.  Needs the Debian
# packages clang and libclang-rt-14-dev (or the libFuzzer runtime of the
# installed clang); "sh test/fuzz/run.sh 5" is the quick run for make check.
set -u

secs=${1:-30}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/../.." || exit 2
top=$(pwd)
fuzz=test/fuzz
build=$fuzz/build
CC=${FUZZ_CC:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "run.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi

LIB_INC=$(for d in lib/*/; do printf -- '-I%s ' "${d%/}"; done)
# the database client headers, as the Makefile's DB_INC
DB_INC="-I/usr/include/postgresql -I/usr/include/mariadb"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer $LIB_INC $DB_INC -Ismtpd -Ipop3d \
 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
 -Wall -Wextra -Wno-unused-parameter"
LIBS="-lssl -lcrypto -lsasl2 -ldb -llmdb -lsqlite3 -lpq -lmariadb -lldap -llber -lpcre2-8 -lsodium -lcrypt -lresolv"

# build_lib - compile the library sources that changed since the last run
build_lib() {
    mkdir -p "$build/obj" || return 1
    changed=0
    [ -f "$build/libposthorn-fuzz.a" ] || changed=1
    objs=""
    for src in lib/*/*.c smtpd/smtpd_data.c pop3d/pop3d_parse.c; do
        obj=$build/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
        objs="$objs $obj"
        if [ ! -f "$obj" ] || [ -n "$(find "$src" lib/*/*.h smtpd/*.h pop3d/*.h -newer "$obj" 2>/dev/null | head -1)" ]; then
            $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || return 1
            changed=1
        fi
    done
    [ $changed -eq 0 ] && return 0
    rm -f "$build/libposthorn-fuzz.a"
    ar rcs "$build/libposthorn-fuzz.a" $objs
}

# build_harness NAME - link test/fuzz/NAME.c against the fuzz library
build_harness() {
    $CC $CFLAGS -Werror -fsanitize=fuzzer "$fuzz/$1.c" \
        "$build/libposthorn-fuzz.a" $LIBS -o "$build/$1"
}

# fuzz_once NAME SECS LOG - one libFuzzer process on $work/corpus
fuzz_once() {
    "$build/$1" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$top/$fuzz/crashes/$1-" \
        $extra "$work/corpus" >>"$3" 2>&1
}

# run_harness NAME - fuzz NAME for $secs seconds from a copy of its corpus
run_harness() {
    name=$1
    work=$(mktemp -d "${TMPDIR:-/tmp}/posthorn-fuzz.XXXXXX") || return 1
    mkdir -p "$work/corpus" "$fuzz/crashes"
    if [ -d "$fuzz/corpus/$name" ]; then
        cp "$fuzz/corpus/$name"/* "$work/corpus/" 2>/dev/null
    fi
    extra=""
    slice=$secs
    case $name in
    fuzz_mail_conf)
        # msg_fatal is escaped with longjmp, which leaks by design: no leak
        # checks, and a fresh process every 10 s so memory stays bounded.
        extra="-detect_leaks=0"
        slice=10 ;;
    esac
    left=$secs
    status=0
    while [ $status -eq 0 ] && [ "$left" -gt 0 ]; do
        now=$slice
        [ "$now" -gt "$left" ] && now=$left
        if [ -n "$extra" ]; then
            ASAN_OPTIONS=detect_leaks=0 fuzz_once "$name" "$now" "$work/log"
        else
            fuzz_once "$name" "$now" "$work/log"
        fi
        status=$?
        left=$((left - now))
    done
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" |
        awk '{ n += $1 } END { print n }')
    rate=$((execs / (secs > 0 ? secs : 1)))
    cov=$(grep -a -o 'cov: [0-9]*' "$work/log" | tail -1)
    if [ $status -eq 0 ]; then
        echo "$name: ok, ${execs:-?} runs in ${secs}s (~$rate exec/s), $cov, corpus $(ls "$work/corpus" | wc -l) files"
    else
        echo "$name: FAILED (exit $status) after ${execs:-?} runs; log tail:"
        grep -a -v '^#[0-9]' "$work/log" | tail -40 | sed 's/^/    /'
        ls -t "$fuzz/crashes/$name-"* 2>/dev/null | head -1 | sed 's/^/    reproducer: /'
    fi
    rm -rf "$work"
    return $status
}

if [ $# -gt 0 ]; then
    harnesses="$*"
else
    harnesses=$(cd "$fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

echo "run.sh: building the fuzz library with $CC"
build_lib || { echo "run.sh: library build failed" >&2; exit 2; }
failed=0
for h in $harnesses; do
    build_harness "$h" || { echo "$h: build FAILED"; failed=1; continue; }
done
[ $failed -eq 0 ] || exit 2
for h in $harnesses; do
    run_harness "$h" || failed=1
done
exit $failed
