#!/bin/sh
# MySQL 8's client flags on MariaDB's client, for the scripts the product runs with the
# official image's `mysql` (wait-for-database, the schema loader, the backup): --ssl-mode is
# MySQL's; MariaDB says it with --ssl, --ssl-verify-server-cert and
# --skip-ssl. Everything else passes through unchanged. One difference remains: MariaDB
# 10.11's --ssl uses TLS whenever the server offers it but does not refuse a server without
# it; the MySQL stand-in always offers it (mysql-entrypoint.sh).
set -eu
prog=$(basename "$0")
n=$#
while [ "$n" -gt 0 ]; do
  a=$1
  shift
  n=$((n - 1))
  case $a in
    --ssl-mode=DISABLED) set -- "$@" --skip-ssl ;;
    --ssl-mode=PREFERRED|--ssl-mode=REQUIRED|--ssl-mode=VERIFY_CA) set -- "$@" --ssl ;;
    --ssl-mode=VERIFY_IDENTITY) set -- "$@" --ssl --ssl-verify-server-cert ;;
    --ssl-mode=*) echo "$prog: unknown --ssl-mode ${a#--ssl-mode=}" >&2; exit 2 ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec "/usr/bin/$prog" "$@"
