#!/bin/sh
# deps.sh - install the Debian packages a step needs, when they are missing.
#
#   sh mk/deps.sh build [test] [bench] [deb]
# (deb: what make deb and make check-deb need besides build: the Debian
# packaging tools, lintian, debootstrap and systemd-nspawn)
# As root, missing packages are installed with apt-get; as another user the
# missing ones are listed and the script fails.
set -e
pkgs=""
for set in "$@"; do
  case $set in
  build) pkgs="$pkgs gcc make libc6-dev libssl-dev libdb-dev liblmdb-dev libsqlite3-dev libpq-dev libmariadb-dev libsasl2-dev libpcre2-dev libsodium-dev libcrypt-dev libldap-dev openssl" ;;
  test)  pkgs="$pkgs libcmocka-dev python3 python3-pytest python3-pytest-xdist swaks libnet-ssleay-perl libsasl2-modules sasl2-bin procps passwd postfix postfix-pcre postfix-lmdb postfix-sqlite postfix-pgsql postfix-mysql postfix-ldap clang libclang-rt-14-dev dnsmasq-base iproute2 strace fetchmail isync dovecot-core dovecot-imapd dovecot-lmtpd fail2ban pflogsumm postgrey postfix-policyd-spf-python libmilter-dev opendkim opendkim-tools rspamd spamass-milter spamd spamc postgresql mariadb-server mariadb-client slapd ldap-utils man-db groff-base" ;;
  bench) pkgs="$pkgs postfix time dovecot-core dovecot-pop3d dovecot-imapd" ;;
  deb)   pkgs="$pkgs build-essential debhelper dpkg-dev fakeroot lintian debootstrap systemd-container" ;;
  *) echo "deps.sh: unknown set $set" >&2; exit 2 ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The postfix package starts a system instance; Posthorn only needs its
# tools (smtp-source, smtp-sink, postmap) and private instances.
case " $missing " in
*" postfix "*) (postfix stop || service postfix stop) >/dev/null 2>&1 || true ;;
esac
# fail2ban: the tests only run fail2ban-regex; no banning on this host.
case " $missing " in
*" fail2ban "*) (service fail2ban stop || pkill -f fail2ban-server) >/dev/null 2>&1 || true ;;
esac
# Likewise Dovecot: the benchmarks start their own private instance.
case " $missing " in
*" dovecot-core "*|*" dovecot-lmtpd "*) (service dovecot stop || pkill -x dovecot) >/dev/null 2>&1 || true ;;
esac
# postgrey: the policy tests run their own on a private port
case " $missing " in
*" postgrey "*) (service postgrey stop || pkill -x postgrey) >/dev/null 2>&1 || true ;;
esac
# The mail filters: the milter tests start private ones
case " $missing " in
*" opendkim "*) (service opendkim stop || pkill -x opendkim) >/dev/null 2>&1 || true ;;
esac
case " $missing " in
*" rspamd "*) (service rspamd stop || pkill -x rspamd) >/dev/null 2>&1 || true ;;
esac
case " $missing " in
*" spamd "*|*" spamass-milter "*)
  (service spamass-milter stop; service spamd stop) >/dev/null 2>&1 || true ;;
esac
# PostgreSQL, MariaDB: the table tests run private servers (temp dirs)
case " $missing " in
*" postgresql "*) (service postgresql stop || pg_ctlcluster --force 15 main stop) >/dev/null 2>&1 || true ;;
esac
case " $missing " in
*" mariadb-server "*) (service mariadb stop || pkill -x mariadbd) >/dev/null 2>&1 || true ;;
esac
# OpenLDAP: the ldap: table tests run a private slapd (ldap_helpers.py)
case " $missing " in
*" slapd "*) (service slapd stop || kill "$(cat /run/slapd/slapd.pid)") >/dev/null 2>&1 || true ;;
esac
exit 0
