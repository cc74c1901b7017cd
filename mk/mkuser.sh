#!/bin/sh
# mkuser.sh - create the mail_owner system user and group when missing
# (as a package's install step would).  Usage: sh mk/mkuser.sh NAME
set -e
name=${1:-posthorn}
getent group "$name" >/dev/null || groupadd --system "$name"
getent passwd "$name" >/dev/null || useradd --system -g "$name" -d /nonexistent -s /usr/sbin/nologin "$name"
