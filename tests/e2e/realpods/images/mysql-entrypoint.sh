#!/bin/sh
# The MySQL stand-in's entrypoint: what the official mysql image's docker-entrypoint.sh does
# for components/mysql, over Debian's MariaDB (no MySQL server is packaged). The product's
# StatefulSet gives the server options as arguments, the root and application credentials
# as MYSQL_* variables, and its schema loader in /docker-entrypoint-initdb.d; on an empty
# data directory this initialises it, sets the passwords, creates the application user and
# runs that loader against a server that listens on its socket only (so the readiness probe,
# which uses TCP, stays false until the schemas are in), as the official image does. Like
# MySQL 8.4 it makes itself a CA and a server certificate in the data directory at that first
# start, and serves TLS with them: the product's clients require TLS (sslMode REQUIRED).
set -eu
case "${1:-}" in -*|"") set -- mariadbd "$@" ;; esac
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then
  exec "$@"
fi
shift
# Debian's configuration binds to loopback; names are not resolved (the pod has no PTR records).
set -- mariadbd --bind-address=0.0.0.0 --skip-name-resolve "$@"
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
set -- "$@" --ssl-ca="$datadir/ca.pem" --ssl-cert="$datadir/server-cert.pem" --ssl-key="$datadir/server-key.pem"
if [ ! -d "$datadir/mysql" ]; then
  : "${MYSQL_ROOT_PASSWORD:?the entrypoint needs MYSQL_ROOT_PASSWORD}"
  echo "mysql stand-in: initialising $datadir"
  mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >/tmp/install-db.log 2>&1 || {
    cat /tmp/install-db.log >&2
    exit 1
  }
  (
    umask 077
    cd "$datadir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mysql-standin-ca" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=mysql" -keyout server-key.pem -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -out server-cert.pem 2>/dev/null
    rm -f server.csr
  )
  "$@" --skip-networking --socket="$socket" &
  pid=$!
  i=0
  until mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 60 ] || { echo "mysql stand-in: the temporary server did not start" >&2; exit 1; }
    kill -0 "$pid" 2>/dev/null || { echo "mysql stand-in: the temporary server exited" >&2; exit 1; }
    sleep 1
  done
  {
    printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n" "$MYSQL_ROOT_PASSWORD"
    # The official image's MYSQL_ROOT_HOST default, '%': the backup Job dumps as root over TCP.
    printf "CREATE USER 'root'@'%%' IDENTIFIED BY '%s';\n" "$MYSQL_ROOT_PASSWORD"
    printf "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION;\n"
    if [ -n "${MYSQL_USER:-}" ]; then
      printf "CREATE USER '%s'@'%%' IDENTIFIED BY '%s';\n" "$MYSQL_USER" "${MYSQL_PASSWORD:?MYSQL_USER needs MYSQL_PASSWORD}"
    fi
  } | mariadb --socket="$socket" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh)
        echo "mysql stand-in: running $f"
        # shellcheck disable=SC1090 # whatever the StatefulSet mounts
        if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql)
        echo "mysql stand-in: loading $f"
        mariadb --socket="$socket" -uroot -p"$MYSQL_ROOT_PASSWORD" <"$f" ;;
    esac
  done
  kill "$pid"
  wait "$pid" || true
  echo "mysql stand-in: initialised"
fi
exec "$@"
