#!/usr/bin/env bash
# Restores API Manager's databases from a dump the backup CronJob wrote (mysql.mode
# incluster; Cloud SQL restores with its own backups and point-in-time recovery, see
# docs/operate.md).
#
#   tools/restore-mysql.sh --list SOURCE
#   tools/restore-mysql.sh TARGET [--yes] DUMP
#
# SOURCE and DUMP:
#   a directory / a file (.sql.gz)            on this machine
#   gs://BUCKET / gs://BUCKET/OBJECT          the bucket of the backup on GKE (gcloud storage)
#   pvc:NAMESPACE/CLAIM / pvc:NAMESPACE/CLAIM/FILE
#                                             the backup's claim, read through a short-lived pod
#                                             (kubectl; the claim is mysql-backup by default)
# TARGET:
#   --namespace NS [--pod POD]                the in-cluster server: kubectl exec into POD
#                                             (default mysql-0) as root, with its own password
#   --host HOST [--port PORT] [--user USER]   a server this machine reaches (e.g. through
#                                             kubectl port-forward); the mysql client here, the
#                                             password from MYSQL_PASSWORD
#
# The dump must be complete (gzip verifies, mysqldump's "-- Dump completed" trailer): otherwise
# nothing is changed. Each database the dump holds is dropped and loaded from the dump, so
# tables created after the dump do not survive. Stop API Manager first (docs/operate.md,
# "Backups and restore"). Without --yes it asks before dropping anything.
# KUBECTL, GCLOUD, MYSQL and RESTORE_IMAGE override the tools and the reader pod's image.
set -euo pipefail

kubectl="${KUBECTL:-kubectl}"
gcloud="${GCLOUD:-gcloud}"
mysql="${MYSQL:-mysql}"
image="${RESTORE_IMAGE:-busybox:1.37}"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "restore: $*" >&2; exit 1; }

list="" namespace="" pod="mysql-0" host="" port=3306 user=root yes=""
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --namespace) namespace="${2:?--namespace needs a value}"; shift ;;
    --pod) pod="${2:?--pod needs a value}"; shift ;;
    --host) host="${2:?--host needs a value}"; shift ;;
    --port) port="${2:?--port needs a value}"; shift ;;
    --user) user="${2:?--user needs a value}"; shift ;;
    --yes) yes=1 ;;
    -h|--help) usage ;;
    -*) echo "restore: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || usage
what="$1"

work="$(mktemp -d)"
reader=""
cleanup() {
  if [ -n "$reader" ]; then
    "$kubectl" -n "${reader%%/*}" delete pod "${reader#*/}" --wait=false >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# pvc_reader NAMESPACE CLAIM: starts a pod that mounts the claim read-only at /backups (as the
# restricted Pod Security level of the namespace allows) and waits for it.
pvc_reader() {
  local ns="$1" claim="$2" name
  name="mysql-restore-reader-$$"
  reader="$ns/$name"
  "$kubectl" -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels: {app.kubernetes.io/name: mysql-restore-reader, app.kubernetes.io/part-of: wso2-apim}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsUser: 999, runAsGroup: 999, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: reader
      image: $image
      command: [sleep, "900"]
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      resources:
        requests: {cpu: 10m, memory: 16Mi, ephemeral-storage: 16Mi}
        limits: {cpu: 100m, memory: 64Mi, ephemeral-storage: 64Mi}
      volumeMounts: [{name: backups, mountPath: /backups, readOnly: true}]
  volumes: [{name: backups, persistentVolumeClaim: {claimName: $claim, readOnly: true}}]
EOF
  "$kubectl" -n "$ns" wait --for=condition=Ready "pod/$name" --timeout=180s >/dev/null ||
    die "the reader pod for claim $claim did not start (kubectl -n $ns describe pod $name)"
}

if [ -n "$list" ]; then
  case "$what" in
    gs://*) "$gcloud" storage ls "${what%/}/" | sed 's|.*/||' | grep '\.sql\.gz$' | sort ;;
    pvc:*)
      spec="${what#pvc:}"
      pvc_reader "${spec%%/*}" "${spec#*/}"
      "$kubectl" -n "${spec%%/*}" exec "${reader#*/}" -- ls -1 /backups | grep '\.sql\.gz$' | sort ;;
    *)
      [ -d "$what" ] || die "$what is not a directory"
      find "$what" -maxdepth 1 -name '*.sql.gz' -printf '%f\n' | sort ;;
  esac
  exit 0
fi

[ -n "$namespace" ] || [ -n "$host" ] || die "say where to restore: --namespace NS (the in-cluster server) or --host HOST"
[ -z "$namespace" ] || [ -z "$host" ] || die "--namespace and --host exclude each other"

# The dump, as a local file.
dump="$work/dump.sql.gz"
case "$what" in
  gs://*) "$gcloud" storage cat "$what" >"$dump" || die "could not read $what" ;;
  pvc:*)
    spec="${what#pvc:}"
    ns="${spec%%/*}"
    rest="${spec#*/}"
    pvc_reader "$ns" "${rest%%/*}"
    "$kubectl" -n "$ns" exec "${reader#*/}" -- cat "/backups/${rest#*/}" >"$dump" || die "could not read ${rest#*/} from claim ${rest%%/*}"
    ;;
  *) [ -f "$what" ] || die "$what: no such file"; dump="$what" ;;
esac

if ! gzip -t "$dump" 2>/dev/null; then
  die "$what is not a valid gzip file: refusing it; nothing was changed"
fi
if ! gzip -cd "$dump" | tail -n 1 | grep -q '^-- Dump completed'; then
  die "$what is not a complete dump (no '-- Dump completed' trailer): refusing it; nothing was changed"
fi
# shellcheck disable=SC2016 # the backquotes are SQL's
databases="$(gzip -cd "$dump" | sed -n 's/^-- Current Database: `\([^`]*\)`$/\1/p' | sort -u | tr '\n' ' ')"
databases="${databases% }"
[ -n "$databases" ] || die "$what names no database (the backup dumps with --databases): refusing it"
taken="$(basename "$what" | sed -n 's/.*-\([0-9]\{8\}T[0-9]\{6\}Z\)\.sql\.gz$/\1/p')"

if [ -n "$namespace" ]; then
  where="$namespace/$pod"
  # shellcheck disable=SC2016 # expanded in the pod, where the root password is
  run_sql() { "$kubectl" -n "$namespace" exec -i "$pod" -c mysql -- sh -c 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mysql -uroot "$@"' mysql "$@"; }
else
  where="$host:$port"
  [ -n "${MYSQL_PASSWORD:-}" ] || die "set MYSQL_PASSWORD to the password of $user"
  cnf="$work/client.cnf"
  (umask 077 && printf '[client]\npassword="%s"\n' "$MYSQL_PASSWORD" >"$cnf")
  run_sql() { "$mysql" --defaults-extra-file="$cnf" --protocol=TCP -h "$host" -P "$port" -u "$user" "$@"; }
fi

echo "restore: $what${taken:+ (taken $taken)} holds $databases"
if [ -z "$yes" ]; then
  printf 'restore: this drops %s on %s and loads them from the dump. Type "restore" to go on: ' "$databases" "$where" >&2
  read -r answer
  [ "$answer" = restore ] || die "not confirmed; nothing was changed"
fi

start=$(date +%s)
{
  # shellcheck disable=SC2016 # the backquotes are SQL's
  for db in $databases; do printf 'DROP DATABASE IF EXISTS `%s`;\n' "$db"; done
  gzip -cd "$dump"
} | run_sql || die "loading the dump into $where failed; the databases may be incomplete: run the restore again"

for db in $databases; do
  n="$(run_sql -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db'")"
  echo "restore: $db has $n tables"
done
echo "restore: restored $databases on $where from $what in $(( $(date +%s) - start )) s"
