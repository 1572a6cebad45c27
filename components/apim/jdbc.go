package apim

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// JDBCFetchScript downloads the driver into $JDBC_DRIVER_DIR with curl, whose TLS checks are
// on (the API Manager images carry curl and Ubuntu's CA certificates), and moves it into
// place only once it is verified: against $JDBC_DRIVER_SHA256 when set, otherwise against the
// SHA-1 file the repository publishes beside the jar, over the same checked TLS connection
// (validation allows that only for https URLs outside mode gke). It says in the pod log which
// check it used. It takes its inputs from the environment so that the script itself never
// changes with them (and can be shellchecked and run as it is in tests).
const JDBCFetchScript = `set -eu
dest="$JDBC_DRIVER_DIR/mysql-connector-j.jar"
part="$dest.part"
rm -f "$part"
fetch() { curl --fail --silent --show-error --location --proto '=https,http' --max-time "$1" -o "$2" "$3"; }
if ! fetch 300 "$part" "$JDBC_DRIVER_URL"; then
  echo "jdbc-driver: could not download $JDBC_DRIVER_URL" >&2
  rm -f "$part"
  exit 1
fi
if [ -n "${JDBC_DRIVER_SHA256:-}" ]; then
  if ! echo "$JDBC_DRIVER_SHA256  $part" | sha256sum -c - >/dev/null 2>&1; then
    echo "jdbc-driver: $JDBC_DRIVER_URL does not match the pinned sha256 (apim.jdbcDriver.sha256); refusing it" >&2
    rm -f "$part"
    exit 1
  fi
  echo "jdbc-driver: verified $JDBC_DRIVER_URL against the pinned sha256 (apim.jdbcDriver.sha256)"
else
  if ! fetch 120 "$part.sha1" "$JDBC_DRIVER_URL.sha1"; then
    echo "jdbc-driver: could not download $JDBC_DRIVER_URL.sha1 to verify the jar; pin apim.jdbcDriver.sha256 instead" >&2
    rm -f "$part" "$part.sha1"
    exit 1
  fi
  want=$(tr -d '\r\n' <"$part.sha1" | cut -c1-40)
  rm -f "$part.sha1"
  case "$want" in
    *[!0-9a-f]*) want="" ;;
  esac
  if [ "${#want}" -ne 40 ]; then
    echo "jdbc-driver: $JDBC_DRIVER_URL.sha1 holds no SHA-1; pin apim.jdbcDriver.sha256 instead" >&2
    rm -f "$part"
    exit 1
  fi
  if ! echo "$want  $part" | sha1sum -c - >/dev/null 2>&1; then
    echo "jdbc-driver: $JDBC_DRIVER_URL does not match $JDBC_DRIVER_URL.sha1; refusing it" >&2
    rm -f "$part"
    exit 1
  fi
  echo "jdbc-driver: verified $JDBC_DRIVER_URL against $JDBC_DRIVER_URL.sha1 published beside it (no sha256 pinned: pin apim.jdbcDriver.sha256 to guard against a compromised server too)"
fi
mv "$part" "$dest"
`

// InitResources are what the API Manager pods' init container (the driver download) requests
// and may use.
var InitResources = kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "32Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "200m", Memory: "64Mi", EphemeralStorage: "64Mi"}}

// jdbcDriverInit runs JDBCFetchScript into dir, the volume the server loads jars from, in the
// driver's image or, by default, the workload's own (already pulled, with curl and CAs).
func jdbcDriverInit(d JDBCDriver, workloadImage, dir string) corev1.ContainerArgs {
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("JDBC_DRIVER_DIR"), Value: pulumi.String(dir)},
		corev1.EnvVarArgs{Name: pulumi.String("JDBC_DRIVER_URL"), Value: pulumi.String(d.URL)},
	}
	if d.SHA256 != "" {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("JDBC_DRIVER_SHA256"), Value: pulumi.String(d.SHA256)})
	}
	image := d.Image
	if image == "" {
		image = workloadImage
	}
	return corev1.ContainerArgs{
		Name:            pulumi.String("jdbc-driver"),
		Image:           pulumi.String(image),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(JDBCFetchScript)},
		Env:             env,
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources:       InitResources.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(jdbcDriverVolName), MountPath: pulumi.String(dir)},
		},
	}
}

// egress lets the init container reach the driver's server: its port, at any address (a
// mirror's or Maven Central's, which have no fixed ranges).
func (d JDBCDriver) egress() kube.Rule {
	return kube.Rule{Peers: []kube.Peer{{CIDR: "0.0.0.0/0"}}, Ports: kube.TCP(kube.PortOf(d.URL))}
}
