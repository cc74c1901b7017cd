#!/bin/sh
# run.sh - start or stop the private development instance under ./run/.
#
#   sh mk/run.sh start BUILD_DIR     (make run)
#   sh mk/run.sh stop  BUILD_DIR     (make stop)
#
# Run from the top of the source tree.  The first start creates run/etc
# (main.cf, master.cf, vmailbox, users, a self-signed certificate in
# run/etc/tls/, a sasldb and the Cyrus SASL application file in
# run/etc/sasl2/), run/queue, run/mail and the run/bin wrappers; later
# starts reuse all of it, queue included (the daemon/command directories
# are pointed at BUILD_DIR again, and whatever an older version of this
# script did not create yet is added).  Fixed ports on 127.0.0.1: 2525
# smtp (STARTTLS offered), 2587 submission (STARTTLS and AUTH required),
# 2465 smtps (TLS from the first byte, AUTH required), 2110 pop3 (STLS
# offered), 2995 pop3s, 2143 imap (STARTTLS offered), 2993 imaps.  mynetworks is
# 127.0.0.1/32 and [::1]/128 only, so a client bound to 127.0.0.2 counts
# as outside.  The demo virtual user is demo@posthorn.test, password
# "demo" (SMTP AUTH, POP3 and IMAP), Maildir run/mail/posthorn.test/demo/.
set -e
# saslpasswd2 and friends live in /usr/sbin, off a plain user's PATH
PATH=$PATH:/usr/sbin:/sbin
export PATH

action=${1:-}
build=${2:-}
case $action in start|stop) ;; *) echo "usage: sh mk/run.sh start|stop BUILD_DIR" >&2; exit 2 ;; esac
[ -n "$build" ] || { echo "run.sh: BUILD_DIR missing" >&2; exit 2; }
build=$(cd "$build" && pwd)
top=$(pwd)
run=$top/run
etc=$run/etc
posthorn="$build/bin/posthorn -c $etc"

[ -x "$build/bin/posthorn" ] || { echo "run.sh: $build/bin/posthorn not built (make all)" >&2; exit 1; }

running() {
    [ -f "$etc/main.cf" ] && $posthorn status >/dev/null 2>&1
}

if [ "$action" = stop ]; then
    if running; then
        $posthorn stop
        echo "posthorn: instance in $run stopped"
    else
        echo "posthorn: instance in $run is not running"
    fi
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    sh "$top/mk/mkuser.sh" posthorn
    owner=posthorn
    vuid=$(id -u posthorn)
    vgid=$(id -g posthorn)
else
    owner=$(id -un)
    vuid=$(id -u)
    vgid=$(id -g)
fi

# --- create the instance once -------------------------------------------
mkdir -p "$etc" "$run/queue" "$run/mail/spool" "$run/mail/posthorn.test" "$run/bin"
chmod 755 "$run" "$etc" "$run/mail" "$run/mail/posthorn.test"
# The mbox spool is not world-writable (no user can plant a file or link
# for another): Debian's root:mail 2775 as root, our own 0755 otherwise.
if [ "$(id -u)" = 0 ] && getent group mail >/dev/null; then
    chown root:mail "$run/mail/spool"
    chmod 2775 "$run/mail/spool"
else
    chmod 755 "$run/mail/spool"
fi

if [ ! -f "$etc/main.cf" ]; then
    cat > "$etc/main.cf" <<EOF
# main.cf of the private instance made by "make run" (mk/run.sh).
queue_directory = $run/queue
daemon_directory = $build/libexec
command_directory = $build/bin
maillog_file = $run/maillog
mail_owner = $owner
myhostname = mail.posthorn.test
mydomain = posthorn.test
mydestination = \$myhostname, localhost.\$mydomain, localhost
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.1/32 [::1]/128
# local users come from this (empty) file, not from the host
passwd_file = $etc/passwd
alias_maps =
alias_database =
mail_spool_directory = $run/mail/spool
home_mailbox = Maildir/
# the demo virtual user
virtual_mailbox_domains = posthorn.test
virtual_mailbox_base = $run/mail
virtual_mailbox_maps = texthash:$etc/vmailbox
virtual_uid_maps = static:$vuid
virtual_gid_maps = static:$vgid
virtual_minimum_uid = 1
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
EOF
    echo "posthorn: created $etc/main.cf"
else
    # reuse the instance, but run the binaries of this build; an instance
    # made before mynetworks was narrowed gets the narrow value
    sed -i -e "s|^daemon_directory = .*|daemon_directory = $build/libexec|" \
           -e "s|^command_directory = .*|command_directory = $build/bin|" \
           -e "s|^mynetworks = 127.0.0.0/8\$|mynetworks = 127.0.0.1/32 [::1]/128|" "$etc/main.cf"
fi

# TLS and SASL settings (also added to an instance made by an older version)
add_param() {
    grep -q "^$1 *=" "$etc/main.cf" || printf '%s = %s\n' "$1" "$2" >> "$etc/main.cf"
}
if ! grep -q "^smtpd_tls_cert_file *=" "$etc/main.cf"; then
    printf '# STARTTLS with the self-signed certificate made by mk/run.sh; SMTP AUTH\n' >> "$etc/main.cf"
    printf '# (submission and smtps in master.cf) through the sasldb in sasl2/\n' >> "$etc/main.cf"
fi
add_param smtpd_tls_cert_file "$etc/tls/cert.pem"
add_param smtpd_tls_key_file "$etc/tls/key.pem"
add_param smtpd_tls_security_level may
add_param cyrus_sasl_config_path "$etc/sasl2"

if [ ! -f "$etc/master.cf" ]; then
    cat > "$etc/master.cf" <<EOF
# master.cf of the private instance made by "make run" (mk/run.sh).
# service            type  private unpriv chroot wakeup maxproc command
127.0.0.1:2525       inet  n       -      n      -      -       smtpd
submit               unix  n       -      n      -      -       smtpd
qmgr                 unix  n       -      n      300    1       qmgr
local                unix  -       n      n      -      -       local
EOF
fi
if ! grep -q "^127.0.0.1:2587 " "$etc/master.cf"; then
    sed -i -e "s|^# later: 2587 submission, 2465 smtps, |# later: |" "$etc/master.cf"
    cat >> "$etc/master.cf" <<EOF
# submission: STARTTLS and AUTH required, relay for authenticated users only
127.0.0.1:2587       inet  n       -      n      -      -       smtpd
  -o syslog_name=posthorn/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
fi
if ! grep -q "^127.0.0.1:2465 " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# smtps (submissions): TLS from the first byte, AUTH required
127.0.0.1:2465       inet  n       -      n      -      -       smtpd
  -o syslog_name=posthorn/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
fi

if ! grep -q "^127.0.0.1:2110 " "$etc/master.cf"; then
    sed -i -e "s|^# later: 2110 pop3, 2995 pop3s, |# later: |" "$etc/master.cf"
    sed -i -e "s|^# later: pop3, 2995 pop3s, |# later: |" "$etc/master.cf"
    cat >> "$etc/master.cf" <<EOF
# POP3 (STLS offered) and POP3S; pop3auth checks logins and starts sessions
127.0.0.1:2110       inet  n       -      n      -      -       pop3d
127.0.0.1:2995       inet  n       -      n      -      -       pop3d
  -o pop3d_tls_wrappermode=yes
pop3auth             unix  -       n      n      -      -       pop3d postlogin
EOF
fi
if ! grep -q "^127.0.0.1:2143 " "$etc/master.cf"; then
    sed -i -e "/^# later: 2143 imap, 2993 imaps$/d" "$etc/master.cf"
    cat >> "$etc/master.cf" <<EOF
# IMAP (STARTTLS offered) and IMAPS; imapauth checks logins and starts sessions
127.0.0.1:2143       inet  n       -      n      -      -       imapd
127.0.0.1:2993       inet  n       -      n      -      -       imapd
  -o imapd_tls_wrappermode=yes
imapauth             unix  -       n      n      -      -       imapd postlogin
EOF
fi
if ! grep -q "^postlog " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# writes maillog_file lines for programs that run as users (mail sessions)
postlog              unix  n       -      n      -      1       postlogd
EOF
fi
if ! grep -q "^anvil " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# connection counts and request rates of SMTP clients (smtpd_client_*_limit)
anvil                unix  -       -      n      -      1       anvil
EOF
fi
if ! grep -q "^proxymap " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# lookups of proxy:TYPE:NAME tables for all processes (proxy_read_maps)
proxymap             unix  -       -      n      -      -       proxymap
EOF
fi
if ! grep -q "^lmtp " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# LMTP delivery (the SMTP client in LMTP mode): mailbox_transport or
# virtual_transport = lmtp:unix:PATH in main.cf hands mail to Dovecot
lmtp                 unix  -       -      n      -      -       smtp
EOF
fi
if ! grep -q "^pickup " "$etc/master.cf"; then
    cat >> "$etc/master.cf" <<EOF
# mail that sendmail left in maildrop/ while the system was down
pickup               unix  n       -      n      60     1       pickup
EOF
fi
add_param smtpd_sasl_local_domain posthorn.test

# the self-signed certificate (once; the key is readable by its owner only)
mkdir -p "$etc/tls"
chmod 755 "$etc/tls"
if [ ! -f "$etc/tls/cert.pem" ] || [ ! -f "$etc/tls/key.pem" ]; then
    rm -f "$etc/tls/key.pem" "$etc/tls/cert.pem"
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
        -subj "/CN=mail.posthorn.test" \
        -addext "subjectAltName=DNS:mail.posthorn.test,DNS:localhost,IP:127.0.0.1" \
        -keyout "$etc/tls/key.pem" -out "$etc/tls/cert.pem" 2>/dev/null) ||
        { echo "run.sh: openssl could not make the certificate" >&2; exit 1; }
    chmod 644 "$etc/tls/cert.pem"
    echo "posthorn: created the self-signed certificate $etc/tls/cert.pem"
fi
chmod 600 "$etc/tls/key.pem"

# SASL: the demo user in a sasldb, and the Cyrus application file
mkdir -p "$etc/sasl2"
chmod 755 "$etc/sasl2"
if [ ! -f "$etc/sasl2/sasldb2" ]; then
    echo demo | saslpasswd2 -p -f "$etc/sasl2/sasldb2" -c -u posthorn.test demo ||
        { echo "run.sh: saslpasswd2 could not make $etc/sasl2/sasldb2" >&2; exit 1; }
    echo "posthorn: created $etc/sasl2/sasldb2 (demo@posthorn.test, password demo)"
fi
chmod 600 "$etc/sasl2/sasldb2"
if [ "$(id -u)" = 0 ]; then chown "$owner" "$etc/sasl2/sasldb2"; fi
[ -f "$etc/sasl2/smtpd.conf" ] || cat > "$etc/sasl2/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $etc/sasl2/sasldb2
mech_list: plain login
EOF
[ -f "$etc/passwd" ] || : > "$etc/passwd"
[ -f "$etc/vmailbox" ] || echo "demo@posthorn.test posthorn.test/demo/" > "$etc/vmailbox"
[ -f "$etc/users" ] || echo "demo@posthorn.test:{PLAIN}demo" > "$etc/users"
chmod 600 "$etc/users"

# run/bin: the commands, already pointed at this instance
for cmd in posthorn postconf sendmail postqueue mailq; do
    [ -e "$build/bin/$cmd" ] || continue
    printf '#!/bin/sh\n# %s for the "make run" instance\nMAIL_CONFIG=%s exec %s "$@"\n' \
        "$cmd" "$etc" "$build/bin/$cmd" > "$run/bin/$cmd"
    chmod 755 "$run/bin/$cmd"
done

if [ "$(id -u)" = 0 ]; then
    chown "$vuid:$vgid" "$run/mail/posthorn.test"
    [ -d "$run/mail/posthorn.test/demo" ] && chown -R "$vuid:$vgid" "$run/mail/posthorn.test/demo"
    # daemons and deliveries run as posthorn: the tree must be reachable
    if command -v setpriv >/dev/null &&
       ! setpriv --reuid="$vuid" --regid="$vgid" --clear-groups test -x "$run/mail/posthorn.test"; then
        echo "posthorn: warning: user posthorn cannot reach $run (a parent directory is not" \
             "world-searchable); mail will be deferred" >&2
    fi
fi

# --- start ----------------------------------------------------------------
if running; then
    echo "posthorn: the instance in $run is already running"
else
    $posthorn start
    i=0
    while [ $i -lt 50 ] && ! running; do sleep 0.1; i=$((i+1)); done
    running || { echo "posthorn: start failed; see $run/maillog" >&2; tail -n 20 "$run/maillog" >&2 || true; exit 1; }
    echo "posthorn: instance in $run started"
fi

cat <<EOF

  SMTP:       127.0.0.1:2525 (STARTTLS offered)
  Submission: 127.0.0.1:2587 (STARTTLS, then AUTH as demo@posthorn.test / demo)
  SMTPS:      127.0.0.1:2465 (TLS from the first byte, then AUTH)
  POP3:       127.0.0.1:2110 (STLS), POP3S: 127.0.0.1:2995 (demo@posthorn.test / demo)
  IMAP:       127.0.0.1:2143 (STARTTLS), IMAPS: 127.0.0.1:2993 (demo@posthorn.test / demo)
  Send:     swaks --server 127.0.0.1:2525 --to demo@posthorn.test --from you@example.com
       or:  swaks --server 127.0.0.1:2587 --tls --auth PLAIN --auth-user demo@posthorn.test \\
              --auth-password demo --from demo@posthorn.test --to demo@posthorn.test
       or:  swaks --server 127.0.0.1:2465 --tlsc --auth PLAIN --auth-user demo@posthorn.test \\
              --auth-password demo --from demo@posthorn.test --to demo@posthorn.test
       or:  printf 'Subject: hi\n\nhello\n' | $build/bin/sendmail -C $etc demo@posthorn.test
       or:  printf 'Subject: hi\n\nhello\n' | run/bin/sendmail demo@posthorn.test
  Relay:    the same swaks on 2587 with --to someone@example.org is accepted and
            queued for the SMTP client (deferred without Internet); without AUTH,
            or on 2525 from an address outside mynetworks, relaying is refused
  Lands in: run/mail/posthorn.test/demo/new/
  Read:     openssl s_client -quiet -starttls pop3 -connect 127.0.0.1:2110
            (then: USER demo@posthorn.test, PASS demo, LIST, RETR 1, QUIT)
       or:  fetchmail -p POP3 -P 2110 -u demo@posthorn.test --sslcertfile $etc/tls/cert.pem \\
              --sslcertck --sslcommonname mail.posthorn.test -k --mda cat localhost
       or:  openssl s_client -quiet -crlf -starttls imap -connect 127.0.0.1:2143
            (then: a LOGIN demo@posthorn.test demo, b SELECT INBOX,
             c FETCH 1:* (FLAGS ENVELOPE), d FETCH 1 BODY[], e LOGOUT)
       or:  mutt -f 'imaps://demo%40posthorn.test@127.0.0.1:2993/INBOX'
            (accept the self-signed certificate; password demo)
  Mail client (Thunderbird, K-9, Apple Mail): IMAP server 127.0.0.1, port 2993
            SSL/TLS or 2143 STARTTLS, user demo@posthorn.test, password demo,
            normal password; SMTP 127.0.0.1:2587 STARTTLS, same user; the
            certificate is self-signed ($etc/tls/cert.pem): accept the exception
  Log:      run/maillog
  Queue:    run/bin/mailq
  Stop:     make stop

EOF
