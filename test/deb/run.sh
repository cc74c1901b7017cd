#!/bin/sh
# test/deb/run.sh - the Debian package from build to purge (make check-deb;
# .ci/run runs it after make check; it is not part of make check).
#
#   sh test/deb/run.sh            as root, on Debian 12 (mk/deps.sh build deb)
#
# 1. Builds the package (mk/deb.sh) and an upgrade of it (the same tree
#    with one more debian/changelog entry, a higher version); lintian on
#    the package: an error fails the test.
# 2. Makes a clean Debian 12 system with debootstrap from the host's
#    bookworm mirror.  It is kept as a tarball in /var/cache/posthorn-deb-test
#    with the packages apt fetched for it, so a second run downloads only
#    the package lists.
# 3. Boots that system with systemd-nspawn on a network of its own (port 25
#    is the container's, not the host's); apt installs the package, whose
#    postinst starts the unit.  Where nspawn cannot boot a system, the tree
#    is a chroot in a network namespace of its own and the unit's
#    ExecStart=/ExecStop= lines stand in for systemctl
#    (POSTHORN_DEB_MODE=chroot forces that).
# 4. The installed system: unit active and enabled, the posthorn user,
#    posthorn check, owners and modes, sendmail's names.  Mail through
#    sendmail (as root and as a user), over SMTP with STARTTLS (ssl-cert's
#    certificate), through an alias of /etc/aliases, from a client outside
#    mynetworks; relaying refused; the lines in the journal (syslog,
#    facility mail); POP3 and IMAP (enabled in master.cf, a password table)
#    read the mbox.
# 5. Upgrade: one message deferred in the queue, master stopped, one
#    message sent with sendmail while it is down (maildrop/), pickup and
#    showq taken out of master.cf as an older one would lack them; apt
#    installs the upgrade: the configuration is kept and the two services
#    added back, master runs again, the maildrop message is delivered, the
#    deferred one is still queued, posthorn check passes.
# 6. maillog_file and /etc/logrotate.d/posthorn; apt remove keeps the
#    configuration, queue and user; apt purge removes them.
# 7. exim4 (Debian's default MTA) installed, then posthorn over it: apt
#    removes exim4-daemon-light (Provides/Conflicts/Replaces:
#    mail-transport-agent), sendmail is posthorn's and mail is delivered.
#
# Environment: POSTHORN_DEB_MODE (nspawn, chroot; default nspawn when it
# boots), POSTHORN_DEB_MIRROR (default: the host's bookworm mirror),
# POSTHORN_DEB_CACHE (default /var/cache/posthorn-deb-test), KEEP=1 leaves
# the system's tree in build-deb/test/root.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C.UTF-8
export PATH LC_ALL

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build-deb
work=$out/test
root=$work/root
cache=${POSTHORN_DEB_CACHE:-/var/cache/posthorn-deb-test}
suite=bookworm
include=systemd,systemd-sysv,dbus,python3,logrotate
machine=posthorn-test
other_mta=exim4-daemon-light		# Debian's default MTA, replaced at the end
netns=posthorn-test
mode=${POSTHORN_DEB_MODE:-}
nspawn_pid=
cpid=
start=$(date +%s)
last=$start

say() {
    now=$(date +%s)
    printf '== [%4ss, +%ss] %s\n' "$((now - start))" "$((now - last))" "$*"
    last=$now
}
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, chroot, systemd-nspawn)"

# --- the system's tree: mounts, network namespace, cleanup -----------------

mounts_under() {
    awk -v r="$1/" 'index($2 "/", r) == 1 { print $2 }' /proc/mounts | sort -r
}

chroot_mount() {
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mkdir -p "$root/debs" "$root/var/cache/apt/archives"
    mount --bind "$work/debs" "$root/debs"
    mount --bind "$cache/archives" "$root/var/cache/apt/archives"
}

chroot_umount() {
    for m in $(mounts_under "$root"); do
        umount -l "$m" 2>/dev/null || true
    done
}

stop_container() {
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -TERM "$nspawn_pid" 2>/dev/null || true	# nspawn halts the system
        i=0
        while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 60 ]; do
            sleep 0.5
            i=$((i + 1))
        done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
        wait "$nspawn_pid" 2>/dev/null || true
    fi
    nspawn_pid=
    cpid=
}

# remove_root - the system's tree, once nothing is mounted in it (a bind
# mount of the cache is on the same file system: rm would go into it)
remove_root() {
    chroot_umount
    if [ -n "$(mounts_under "$root")" ]; then
        echo "still mounted under $root: $(mounts_under "$root" | tr '\n' ' ')" >&2
        return 1
    fi
    rm -rf --one-file-system "$root"
}

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ "$mode" = chroot ] && [ -d "$root/usr/sbin" ] && [ -x "$root/usr/sbin/posthorn" ]; then
        nsenter --net="/run/netns/$netns" chroot "$root" /usr/sbin/posthorn stop \
            >/dev/null 2>&1 || true
    fi
    stop_container
    ip netns del "$netns" 2>/dev/null || true
    if [ -e "$work/uts" ]; then
        umount "$work/uts" 2>/dev/null || true
        rm -f "$work/uts"
    fi
    if [ "${KEEP:-}" = 1 ]; then
        chroot_umount
    else
        remove_root || true
    fi
    if [ $rc = 0 ]; then
        say "PASS (mode $mode)"
    else
        echo "test/deb/run.sh: FAILED (mode ${mode:-not chosen yet}; logs in $work)" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"
remove_root || fail "cannot clean up $root"	# from a run that was killed
rm -rf "$work/debs"
rm -f "$work"/*.log

# --- 1. the packages and lintian -------------------------------------------

say "building the package (log: $work/build.log)"
if ! sh "$top/mk/deb.sh" -j "$(nproc)" "$out" > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    fail "the package did not build"
fi
deb1=$(tail -n 1 "$work/build.log")
v1=$(dpkg-deb -f "$deb1" Version)
v2="$v1+upgrade1"
say "building the upgrade, version $v2 (log: $work/build-upgrade.log)"
if ! sh "$top/mk/deb.sh" -j "$(nproc)" -v "$v2" "$out/upgrade" > "$work/build-upgrade.log" 2>&1; then
    tail -n 40 "$work/build-upgrade.log" >&2
    fail "the upgrade did not build"
fi
deb2=$(tail -n 1 "$work/build-upgrade.log")
dpkg --compare-versions "$v2" gt "$v1" || fail "$v2 is not newer than $v1"
mkdir -p "$work/debs"
cp "$deb1" "$deb2" "$work/debs/"
chmod 755 "$work/debs"
chmod 644 "$work/debs"/*.deb
deb1=/debs/$(basename "$deb1")
deb2=/debs/$(basename "$deb2")

say "lintian $(basename "$deb1")"
lrc=0
lintian -I --fail-on error "$work/debs/$(basename "$deb1")" > "$work/lintian.log" 2>&1 || lrc=$?
grep -v '^running with root privileges' "$work/lintian.log" || true
[ $lrc = 0 ] || fail "lintian found errors (exit $lrc)"

# --- 2. a clean Debian 12 ----------------------------------------------------

# host_mirror - the URI of the host's apt source for $suite (one-line and
# deb822 formats)
host_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '$1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == s) { print $i; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
            {
                uri = ""; deb = 0; ok = 0; off = 0
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/) { split(substr($i, 6), w, " "); uri = w[1] }
                    if ($i ~ /^Types:/) { n = split(substr($i, 7), w, " "); for (j = 1; j <= n; j++) if (w[j] == "deb") deb = 1 }
                    if ($i ~ /^Suites:/) { n = split(substr($i, 8), w, " "); for (j = 1; j <= n; j++) if (w[j] == s) ok = 1 }
                    if ($i ~ /^Enabled:[ \t]*no/) off = 1
                }
                if (uri != "" && deb && ok && !off) { print uri; exit }
            }' "$f"
    done
}
mirror=${POSTHORN_DEB_MIRROR:-$(host_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)
key=$(printf '%s %s %s %s' "$suite" "$mirror" "$include" "$arch" | sha256sum | cut -c1-12)
tarball=$cache/$suite-$arch-$key.tar.gz
mkdir -p "$cache/archives"

exec 9> "$cache/.lock"
flock 9					# another run making the same tarball
if [ ! -f "$tarball" ]; then
    say "debootstrap $suite from $mirror (log: $work/debootstrap.log)"
    tmp=$work/debootstrap
    rm -rf --one-file-system "$tmp"
    if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror" \
        > "$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        fail "debootstrap failed"
    fi
    tar -C "$tmp" --numeric-owner -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$tmp"
    say "cached as $tarball"
fi
exec 9>&-

say "unpacking the clean system into $root"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xzf "$tarball"
# the host's name, as the postinst reads it (hostname --fqdn, /etc/mailname)
echo mail > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmail.posthorn.test mail\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    > "$root/etc/hosts"
echo mail.posthorn.test > "$root/etc/mailname"
cp "$top/test/deb/client.py" "$root/root/client.py"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# what the package needs, fetched with the host's network (the system runs
# on a network of its own later)
say "apt: fetching the package's dependencies"
chroot_mount
if ! chroot "$root" /usr/bin/env -i PATH="$PATH" DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get -q update && apt-get install -q -y --download-only $deb1 &&
               apt-get install -q -y --download-only $other_mta" \
        > "$work/apt-download.log" 2>&1; then
    tail -n 30 "$work/apt-download.log" >&2
    fail "apt could not fetch the dependencies"
fi
chroot_umount

# --- 3. boot it (or a chroot) ------------------------------------------------

boot_nspawn() {
    command -v systemd-nspawn >/dev/null || return 1
    systemd-nspawn -q -D "$root" -M "$machine" --register=no --keep-unit \
        --private-network --boot --console=pipe \
        --bind-ro="$work/debs:/debs" --bind="$cache/archives:/var/cache/apt/archives" \
        > "$work/nspawn.log" 2>&1 < /dev/null &
    nspawn_pid=$!
    i=0
    while [ -z "$cpid" ] && [ $i -lt 60 ]; do
        kill -0 "$nspawn_pid" 2>/dev/null || return 1
        cpid=$(ps -o pid= --ppid "$nspawn_pid" | head -n 1 | tr -d ' ')
        [ -n "$cpid" ] || sleep 0.5
        i=$((i + 1))
    done
    [ -n "$cpid" ] || return 1
    state=$(timeout 120 nsenter -t "$cpid" -a systemctl is-system-running --wait 2>/dev/null) || true
    case $state in
    running) return 0 ;;
    degraded)
        echo "the system is degraded; failed units:"
        nsenter -t "$cpid" -a systemctl --failed --no-pager --plain || true
        return 0 ;;
    esac
    echo "systemd-nspawn did not boot the system (state: ${state:-none}); log:"
    tail -n 20 "$work/nspawn.log"
    return 1
}

if [ "$mode" != chroot ]; then
    say "booting it with systemd-nspawn"
    if boot_nspawn; then
        mode=nspawn
    elif [ "$mode" = nspawn ]; then
        fail "POSTHORN_DEB_MODE=nspawn, but systemd-nspawn cannot boot the system"
    else
        stop_container
        mode=chroot
    fi
fi
if [ "$mode" = chroot ]; then
    say "no systemd: a chroot with network namespace $netns and host name mail"
    ip netns del "$netns" 2>/dev/null || true
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    umount "$work/uts" 2>/dev/null || true
    : > "$work/uts"
    unshare --uts="$work/uts" hostname mail
    chroot_mount
fi

# ct CMD... - run CMD in the system (stdin passed on)
ct() {
    if [ "$mode" = nspawn ]; then
        nsenter -t "$cpid" -a /usr/bin/env -i PATH="$PATH" LC_ALL=C.UTF-8 HOME=/root \
            DEBIAN_FRONTEND=noninteractive "$@"
    else
        nsenter --net="/run/netns/$netns" --uts="$work/uts" chroot "$root" \
            /usr/bin/env -i PATH="$PATH" LC_ALL=C.UTF-8 HOME=/root \
            DEBIAN_FRONTEND=noninteractive "$@"
    fi
}

# ct_net CMD... - CMD in the system's network namespace, with the host's tools
ct_net() {
    if [ "$mode" = nspawn ]; then
        nsenter -t "$cpid" -n "$@"
    else
        nsenter --net="/run/netns/$netns" "$@"
    fi
}

# unit_exec KEY - the unit's Exec line (ExecStart, ExecStop, ExecReload)
unit_exec() {
    sed -n "s/^$1=//p" "$root/lib/systemd/system/posthorn.service"
}

# svc start|stop|reload|is-active - through systemd, or the unit's commands
svc() {
    if [ "$mode" = nspawn ]; then
        case $1 in
        is-active) ct systemctl -q is-active posthorn ;;
        *) ct systemctl "$1" posthorn ;;
        esac
    else
        case $1 in
        start) ct $(unit_exec ExecStart) ;;
        stop) ct $(unit_exec ExecStop) ;;
        reload) ct $(unit_exec ExecReload) ;;
        is-active) ct /usr/sbin/posthorn status >/dev/null 2>&1 ;;
        esac
    fi
}

master_pid() {
    tr -d ' \n' < "$root/var/spool/posthorn/pid/master.pid" 2>/dev/null || true
}

# wait_mail USER SUBJECT... - each subject in /var/mail/USER within 60 s
wait_mail() {
    user=$1
    shift
    for subject in "$@"; do
        i=0
        until grep -q "^Subject: $subject\$" "$root/var/mail/$user" 2>/dev/null; do
            i=$((i + 1))
            if [ $i -gt 120 ]; then
                ct mailq || true
                fail "no \"$subject\" in /var/mail/$user after 60 s"
            fi
            sleep 0.5
        done
    done
    echo "/var/mail/$user has: $*"
}

# expect WHAT GOT WANT
expect() {
    [ "$2" = "$3" ] || fail "$1: \"$2\", expected \"$3\""
    echo "ok: $1 = $3"
}

# --- 4. install and use it ----------------------------------------------------

say "apt-get install $deb1 (log: $work/apt-install.log)"
if ! ct apt-get install -q -y "$deb1" > "$work/apt-install.log" 2>&1; then
    tail -n 30 "$work/apt-install.log" >&2
    fail "apt-get install failed"
fi
grep -E '^posthorn: |warning|error' "$work/apt-install.log" || true
[ "$mode" = nspawn ] || svc start

say "the installed package"
expect "package" "$(ct dpkg-query -W -f='${Status} ${Version}' posthorn)" "install ok installed $v1"
svc is-active || fail "the service is not running after the install"
echo "ok: the service runs (master pid $(master_pid))"
if [ "$mode" = nspawn ]; then
    expect "systemctl is-enabled" "$(ct systemctl is-enabled posthorn)" enabled
    expect "MainPID" "$(ct systemctl show -P MainPID posthorn)" "$(master_pid)"
fi
pw=$(ct getent passwd posthorn) || fail "no posthorn user"
expect "posthorn's home and shell" "$(echo "$pw" | cut -d: -f6-)" "/nonexistent:/usr/sbin/nologin"
[ "$(echo "$pw" | cut -d: -f3)" -lt 1000 ] || fail "posthorn is not a system user: $pw"
ct getent group posthorn >/dev/null || fail "no posthorn group"
ct posthorn check || fail "posthorn check failed after the install"
echo "ok: posthorn check"
expect "queue_directory" "$(ct stat -c '%U:%G %a' /var/spool/posthorn)" "root:root 755"
expect "maildrop" "$(ct stat -c '%U:%G %a' /var/spool/posthorn/maildrop)" "posthorn:posthorn 3733"
expect "/etc/posthorn/main.cf" "$(ct stat -c '%U:%G %a' /etc/posthorn/main.cf)" "root:root 644"
ct test -f /etc/aliases.db || fail "newaliases did not make /etc/aliases.db"
for f in /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases; do
    expect "$f" "$(ct readlink -f "$f")" /usr/sbin/sendmail
done
expect "myhostname" "$(ct postconf -h myhostname)" mail.posthorn.test
expect "myorigin" "$(ct postconf -h myorigin)" mail.posthorn.test
expect "daemon_directory" "$(ct postconf -h daemon_directory)" /usr/lib/posthorn
expect "maillog_file" "$(ct postconf -h maillog_file)" ""

say "mail: sendmail, SMTP with STARTTLS, an alias, relaying refused"
ct useradd -m -s /bin/sh alice
printf 'bob:    alice\n' >> "$root/etc/aliases"
ct newaliases
printf 'Subject: from root\n\nsendmail as root\n' | ct /usr/sbin/sendmail alice
printf 'Subject: from alice\n\nsendmail as a user\n' | ct runuser -u alice -- /usr/sbin/sendmail alice@localhost
ct python3 /root/client.py smtp alice@mail.posthorn.test "over smtp"
ct python3 /root/client.py smtp bob@localhost "to an alias"
# a client outside mynetworks: an address of lo that is not 127/8
# (mynetworks_style = host leaves loopback interfaces out but 127.0.0.0/8)
ct_net ip addr add 192.0.2.10/32 dev lo
ct python3 /root/client.py relay someone@example.org 192.0.2.10
ct python3 /root/client.py smtp alice@localhost "from outside" 192.0.2.10
wait_mail alice "from root" "from alice" "over smtp" "to an alias" "from outside"
expect "owner of /var/mail/alice" "$(ct stat -c %U /var/mail/alice)" alice

say "delivery as the user into the home directory: a Maildir and a command (.forward)"
# what the unit's hardening must leave alone (ProtectSystem=full, PrivateTmp)
ct useradd -m -s /bin/sh carol
printf '/home/carol/Maildir/\n"|/usr/bin/tee /home/carol/piped"\n' > "$root/home/carol/.forward"
ct chown carol:carol /home/carol/.forward
printf 'Subject: to carol\n\nthrough .forward\n' | ct /usr/sbin/sendmail carol
i=0
until [ -s "$root/home/carol/piped" ] && [ -n "$(ls "$root/home/carol/Maildir/new" 2>/dev/null)" ]; do
    i=$((i + 1))
    [ $i -lt 120 ] || { ct mailq; fail "no delivery to carol's Maildir and command"; }
    sleep 0.5
done
grep -q '^Subject: to carol$' "$root/home/carol/piped" || fail "the command did not get the message"
grep -q '^Subject: to carol$' "$root"/home/carol/Maildir/new/* || fail "the Maildir did not get the message"
expect "owner of carol's delivered files" \
    "$(ct stat -c %U /home/carol/piped "$(ct sh -c 'ls -d /home/carol/Maildir/new/*')" | sort -u)" carol

if [ "$mode" = nspawn ]; then
    n=$(ct journalctl -q --no-pager -o cat SYSLOG_FACILITY=2 SYSLOG_IDENTIFIER=posthorn/local |
        grep -c 'status=sent') || true
    [ "$n" -ge 5 ] || fail "the journal has $n posthorn/local status=sent lines (facility mail), expected 5"
    echo "ok: the journal has $n deliveries from posthorn/local, facility mail"
fi

say "POP3 and IMAP (master.cf services enabled, a password table)"
sed -i -E 's/^#((pop3|pop3auth|imap|imapauth)[[:space:]]+(inet|unix)[[:space:]].*)/\1/' \
    "$root/etc/posthorn/master.cf"
printf 'alice {PLAIN}secret\n' > "$root/etc/posthorn/passwords"
ct chown root:posthorn /etc/posthorn/passwords
ct chmod 640 /etc/posthorn/passwords
ct postconf -e smtpd_sasl_password_maps=texthash:/etc/posthorn/passwords
ct posthorn check || fail "posthorn check failed with POP3 and IMAP"
svc reload
i=0
until ct python3 /root/client.py pop3 alice secret "from root" "from alice" "over smtp" \
        "to an alias" "from outside"; do
    i=$((i + 1))
    [ $i -lt 10 ] || fail "POP3"
    sleep 1
done
ct python3 /root/client.py imap alice secret "from root" "from alice" "over smtp" \
    "to an alias" "from outside" || fail "IMAP"

# --- 5. the upgrade ---------------------------------------------------------

say "a deferred message; master stopped; sendmail while it is down"
printf 'Subject: deferred\n\nto a host that cannot be reached\n' |
    ct /usr/sbin/sendmail 'nobody@[192.0.2.1]'
i=0
until ct postqueue -j | grep -q '"queue_name": *"deferred"'; do
    i=$((i + 1))
    [ $i -lt 120 ] || { ct mailq; fail "the message to [192.0.2.1] was not deferred"; }
    sleep 0.5
done
deferred=$(ct postqueue -j | sed -n 's/.*"queue_id": *"\([0-9A-F]*\)".*/\1/p')
[ -n "$deferred" ] || fail "no queue id in postqueue -j"
echo "deferred: $deferred"
old_pid=$(master_pid)
svc stop
if svc is-active; then fail "the service still runs after stop"; fi
printf 'Subject: while stopped\n\nsendmail while master was stopped\n' |
    ct runuser -u alice -- /usr/sbin/sendmail alice
expect "files in maildrop/" "$(ls "$root/var/spool/posthorn/maildrop" | wc -l)" 1
# an older master.cf: no pickup, no showq
sed -i -E '/^(pickup|showq)[[:space:]]+unix[[:space:]]/d' "$root/etc/posthorn/master.cf"
cp "$root/etc/posthorn/main.cf" "$work/main.cf.before"
cp "$root/etc/posthorn/master.cf" "$work/master.cf.before"

say "apt-get install $deb2 (the upgrade; log: $work/apt-upgrade.log)"
if ! ct apt-get install -q -y "$deb2" > "$work/apt-upgrade.log" 2>&1; then
    tail -n 30 "$work/apt-upgrade.log" >&2
    fail "the upgrade failed"
fi
grep -E '^posthorn: |Editing|warning|error' "$work/apt-upgrade.log" || true
[ "$mode" = nspawn ] || svc start

say "after the upgrade"
expect "package" "$(ct dpkg-query -W -f='${Status} ${Version}' posthorn)" "install ok installed $v2"
svc is-active || fail "the service is not running after the upgrade"
new_pid=$(master_pid)
[ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] || fail "master pid $new_pid (before: $old_pid)"
echo "ok: the service runs (master pid $new_pid, was $old_pid)"
cmp "$work/main.cf.before" "$root/etc/posthorn/main.cf" || fail "the upgrade changed main.cf"
echo "ok: main.cf kept"
size=$(stat -c %s "$work/master.cf.before")
head -c "$size" "$root/etc/posthorn/master.cf" | cmp - "$work/master.cf.before" ||
    fail "the upgrade changed master.cf other than by adding to it"
grep -Eq '^pickup[[:space:]]+unix' "$root/etc/posthorn/master.cf" || fail "pickup was not added back"
grep -Eq '^showq[[:space:]]+unix' "$root/etc/posthorn/master.cf" || fail "showq was not added back"
echo "ok: master.cf kept, pickup and showq added by upgrade-configuration"
wait_mail alice "while stopped"
expect "files in maildrop/" "$(ls "$root/var/spool/posthorn/maildrop" | wc -l)" 0
ct postqueue -j | grep -q "\"queue_id\": *\"$deferred\"" || fail "$deferred is no longer queued"
echo "ok: $deferred is still in the queue"
ct posthorn check || fail "posthorn check failed after the upgrade"
echo "ok: posthorn check"

# --- 6. maillog_file and logrotate; remove; purge; 7. replacing exim4 -------

say "maillog_file and logrotate"
ct postconf -e maillog_file=/var/log/posthorn.log
svc reload
sleep 1
printf 'Subject: logged to a file\n\n.\n' | ct /usr/sbin/sendmail alice
wait_mail alice "logged to a file"
sleep 1
grep -q 'status=sent' "$root/var/log/posthorn.log" || fail "no delivery in /var/log/posthorn.log"
ct logrotate -f /etc/logrotate.d/posthorn
[ -f "$root/var/log/posthorn.log.1" ] || fail "logrotate made no posthorn.log.1"
printf 'Subject: after the rotation\n\n.\n' | ct /usr/sbin/sendmail alice
wait_mail alice "after the rotation"
sleep 1
grep -q 'status=sent' "$root/var/log/posthorn.log" || fail "no delivery in the new /var/log/posthorn.log"
echo "ok: rotated to posthorn.log.1; the new posthorn.log has the next delivery"

say "apt-get remove: configuration, queue and user stay"
[ "$mode" = nspawn ] || svc stop	# no systemd to stop it
ct apt-get remove -q -y posthorn > "$work/apt-remove.log" 2>&1 || {
    tail -n 30 "$work/apt-remove.log" >&2; fail "apt-get remove failed"; }
if svc is-active; then fail "master still runs after remove"; fi
ct test ! -e /usr/sbin/sendmail || fail "/usr/sbin/sendmail is still there"
for f in /etc/posthorn/main.cf /etc/posthorn/master.cf /var/spool/posthorn/deferred; do
    ct test -e "$f" || fail "remove took $f"
done
ct getent passwd posthorn >/dev/null || fail "remove took the posthorn user"
echo "ok: removed; configuration, queue and user kept"

say "apt-get purge: all gone"
ct apt-get purge -q -y posthorn > "$work/apt-purge.log" 2>&1 || {
    tail -n 30 "$work/apt-purge.log" >&2; fail "apt-get purge failed"; }
for f in /etc/posthorn /var/spool/posthorn /var/log/posthorn.log /var/log/posthorn.log.1; do
    ct test ! -e "$f" || fail "purge left $f"
done
if ct getent passwd posthorn >/dev/null; then fail "purge left the posthorn user"; fi
if ct getent group posthorn >/dev/null; then fail "purge left the posthorn group"; fi
expect "package" "$(ct dpkg-query -W -f='${db:Status-Status}' posthorn 2>/dev/null || echo not-installed)" not-installed
ct test -f /etc/aliases || fail "purge took /etc/aliases (Debian's, not ours)"
echo "ok: purged; /etc/aliases stays (Debian Policy 11.6: every MTA's)"

say "switching MTAs: $other_mta (Debian's default) replaced by posthorn"
ct apt-get install -q -y "$other_mta" > "$work/apt-other-mta.log" 2>&1 || {
    tail -n 30 "$work/apt-other-mta.log" >&2; fail "apt-get install $other_mta failed"; }
expect "/usr/sbin/sendmail" "$(ct dpkg-query -S /usr/sbin/sendmail | cut -d: -f1)" exim4-daemon-light
if ! ct apt-get install -q -y "$deb2" > "$work/apt-switch.log" 2>&1; then
    tail -n 30 "$work/apt-switch.log" >&2
    fail "apt-get install posthorn over $other_mta failed"
fi
grep -E '^Removing ' "$work/apt-switch.log" || true
expect "$other_mta" "$(ct dpkg-query -W -f='${db:Status-Status}' "$other_mta")" config-files
expect "/usr/sbin/sendmail" "$(ct dpkg-query -S /usr/sbin/sendmail | cut -d: -f1)" posthorn
[ "$mode" = nspawn ] || svc start
svc is-active || fail "posthorn does not run after replacing $other_mta"
ct posthorn check || fail "posthorn check failed after replacing $other_mta"
ct python3 /root/client.py smtp alice@localhost "after $other_mta"
wait_mail alice "after $other_mta"
[ "$mode" = nspawn ] || svc stop
echo "ok: posthorn replaced $other_mta, runs and delivers"
