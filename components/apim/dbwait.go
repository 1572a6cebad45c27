package apim

import (
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
)

// API Manager opens its datasources once, at start: a server that starts before its database
// answers spends its start-up budget failing to connect. So every API Manager pod first waits,
// in an init container, until the database accepts the application user's credentials and its
// schema is loaded.

// DefaultClientImage is the image whose mysql client does that check: MySQL's own 8.4 LTS
// image, the one the in-cluster database runs.
const DefaultClientImage = "mysql:8.4"

// Database names WSO2 API Manager's deployment.toml configures: those the database component
// creates.
const (
	APIMDatabase   = mysql.APIMDatabase
	SharedDatabase = mysql.SharedDatabase
)

// SchemaMarkers name, for each database, the table WSO2 4.7.0's MySQL script creates last, so
// that its presence means the script ran to its end: apim_db's script
// (dbscripts/apimgt/mysql.sql) is carbon-apimgt v9.33.122's
// features/apimgt/org.wso2.carbon.apimgt.core.feature/src/main/resources/sql/mysql.sql and
// shared_db's (dbscripts/mysql.sql) is carbon-kernel v4.11.18's
// distribution/kernel/carbon-home/dbscripts/mysql.sql, the versions wso2/product-apim v4.7.0
// pins. Check them again for a new API Manager version.
var SchemaMarkers = map[string]string{
	APIMDatabase:   "AM_API_KEY_APPLICATION_MAPPING",
	SharedDatabase: "UM_ORG_HIERARCHY",
}

// PoolMaxActive is the most connections one datasource of one pod opens (deployment.toml's
// maxActive, see toml.go); a test holds the two equal.
const PoolMaxActive = 100

// DatabasesOf lists the datasources a role's deployment.toml configures: the control plane
// both, the gateway only shared_db (users and tenants; APIs come from the control plane).
func DatabasesOf(component string) []string {
	if component == ComponentGateway {
		return []string{SharedDatabase}
	}
	return []string{APIMDatabase, SharedDatabase}
}

// DBWaitSeconds bounds one wait; after it the init container fails with the last reason and the
// kubelet starts it again (with back-off), so a database that comes late is still found.
const DBWaitSeconds = 600

// DBWaitResources are what the wait-for-database init container requests and may use.
var DBWaitResources = kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "32Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "200m", Memory: "128Mi", EphemeralStorage: "64Mi"}}

// DBWaitScript waits until the database answers the application user over a real connection
// and the marker tables ($DB_TABLES, "db.table" words) exist, then says so; after
// $DB_WAIT_SECONDS it gives up with the last reason. It is POSIX sh and needs only the mysql
// client, sleep and date. The password and the server's CA go to files in $DB_WAIT_DIR (a
// memory-backed volume), never to the command line.
const DBWaitScript = `set -eu
dir="$DB_WAIT_DIR"
trap 'rm -f "$dir/client.cnf" "$dir/ca.pem"' EXIT
umask 077
printf '[client]\npassword="%s"\n' "$DB_PASSWORD" >"$dir/client.cnf"
set -- --defaults-extra-file="$dir/client.cnf" --protocol=TCP --connect-timeout=5 \
  -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER"
tls="TLS if the server offers it"
case "${DB_SSL_MODE:-}" in
  "") ;;
  VERIFY_CA|VERIFY_IDENTITY)
    if [ -z "${DB_SERVER_CA:-}" ]; then
      echo "wait-for-database: DB_SSL_MODE $DB_SSL_MODE needs the server's CA in DB_SERVER_CA" >&2
      exit 1
    fi
    printf '%s\n' "$DB_SERVER_CA" >"$dir/ca.pem"
    set -- "$@" --ssl-mode="$DB_SSL_MODE" --ssl-ca="$dir/ca.pem"
    tls="TLS, server certificate checked ($DB_SSL_MODE)" ;;
  *)
    set -- "$@" --ssl-mode="$DB_SSL_MODE"
    tls="TLS ($DB_SSL_MODE)" ;;
esac
cond=""
want=0
for t in $DB_TABLES; do
  cond="$cond${cond:+ OR }(table_schema='${t%%.*}' AND table_name='${t#*.}')"
  want=$((want + 1))
done
query="SELECT COUNT(*) FROM information_schema.tables WHERE $cond"
start=$(date +%s)
next_log=0
while :; do
  if out=$(mysql "$@" -N -B -e "$query" 2>&1) && [ "$out" = "$want" ]; then
    echo "wait-for-database: $DB_HOST:$DB_PORT answers $DB_USER over $tls and holds the schema ($DB_TABLES) after $(( $(date +%s) - start )) s"
    exit 0
  fi
  case "$out" in
    [0-9]*) reason="connected, but $out of the $want schema tables ($DB_TABLES) exist: the schema is not loaded yet" ;;
    *) reason=$(printf '%s\n' "$out" | grep -v -i 'warning' | tail -n 1) ;;
  esac
  waited=$(( $(date +%s) - start ))
  if [ "$waited" -ge "$DB_WAIT_SECONDS" ]; then
    echo "wait-for-database: gave up on $DB_HOST:$DB_PORT after $waited s: $reason (the pod starts this check again)" >&2
    exit 1
  fi
  if [ "$waited" -ge "$next_log" ]; then
    echo "wait-for-database: waiting for $DB_HOST:$DB_PORT as $DB_USER ($waited s of $DB_WAIT_SECONDS): $reason"
    next_log=$((waited + 30))
  fi
  sleep 5
done
`

// dbWaitVolume holds the client's password file and the server's CA while the check runs.
const dbWaitVolume = "db-wait"

// databaseWait is the init container that runs DBWaitScript for the databases of component
// (ComponentControlPlane or ComponentGateway).
func databaseWait(db Database, component string) corev1.ContainerArgs {
	image := db.ClientImage
	if image == "" {
		image = DefaultClientImage
	}
	var tables []string
	for _, d := range DatabasesOf(component) {
		tables = append(tables, d+"."+SchemaMarkers[d])
	}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("DB_HOST"), Value: pulumi.String(db.Host)},
		corev1.EnvVarArgs{Name: pulumi.String("DB_PORT"), Value: pulumi.String(strconv.Itoa(db.Port))},
		corev1.EnvVarArgs{Name: pulumi.String("DB_USER"), Value: pulumi.String(db.Username)},
		kube.SecretEnv("DB_PASSWORD", db.Password),
		corev1.EnvVarArgs{Name: pulumi.String("DB_TABLES"), Value: pulumi.String(strings.Join(tables, " "))},
		corev1.EnvVarArgs{Name: pulumi.String("DB_WAIT_SECONDS"), Value: pulumi.String(strconv.Itoa(DBWaitSeconds))},
		corev1.EnvVarArgs{Name: pulumi.String("DB_WAIT_DIR"), Value: pulumi.String("/" + dbWaitVolume)},
	}
	if db.SSLMode != "" {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("DB_SSL_MODE"), Value: pulumi.String(db.SSLMode)})
	}
	if db.ServerCA != nil {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("DB_SERVER_CA"), Value: db.ServerCA})
	}
	return corev1.ContainerArgs{
		Name:            pulumi.String("wait-for-database"),
		Image:           pulumi.String(image),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(DBWaitScript)},
		Env:             env,
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources:       DBWaitResources.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(dbWaitVolume), MountPath: pulumi.String("/" + dbWaitVolume)},
		},
	}
}

// dbWaitVolumeArgs is the memory-backed scratch volume of databaseWait.
func dbWaitVolumeArgs() corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String(dbWaitVolume),
		EmptyDir: &corev1.EmptyDirVolumeSourceArgs{Medium: pulumi.String("Memory"), SizeLimit: pulumi.String("1Mi")}}
}
