package mysql

import (
	"fmt"
	"sort"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	discoveryv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/discovery/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// ExternalArgs configures the cluster's side of a MySQL that runs outside it (Cloud SQL): a
// Service of the in-cluster name whose one endpoint is the server's address, the Secret
// holding the application user's password, and a Job that loads API Manager's schemas.
type ExternalArgs struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput
	// Name of the Service clients connect to. Defaults to "mysql".
	Name string
	// Address is the server's IP address. Required.
	Address pulumi.StringInput
	// AddressRange is a CIDR that holds Address: the schema Job may connect there on 3306.
	// Required.
	AddressRange string
	// Username and Password (a secret) of the application user, who owns apim_db and
	// shared_db. Required.
	Username string
	Password pulumi.StringInput
	// SSLMode is how clients use TLS: VERIFY_CA (with ServerCA) or REQUIRED. Defaults to
	// VERIFY_CA.
	SSLMode string
	// ServerCA is the PEM of the CA that signs the server's certificate. Required for
	// VERIFY_CA.
	ServerCA pulumi.StringInput
	// ClientImage has the mysql client the schema Job runs. Defaults to mysql:8.4.
	ClientImage string
	// APIMImage and APIMServerHome: the API Manager image whose dbscripts are loaded, and its
	// product directory. Required.
	APIMImage, APIMServerHome string
	// Markers name, by database, the table its script creates last (apim.SchemaMarkers).
	// Required: both databases.
	Markers map[string]string
	// After are resources the schema Job waits for (the databases and the user).
	After []pulumi.Resource
}

// SchemaJobResources are what the schema Job's containers request and may use.
var SchemaJobResources = kube.Resources{Requests: kube.Compute{CPU: "100m", Memory: "128Mi", EphemeralStorage: "64Mi"},
	Limits: kube.Compute{CPU: "1", Memory: "512Mi", EphemeralStorage: "256Mi"}}

// SchemaScript loads each database's script once. For each "db=file:marker" word of $SCHEMAS
// (file in $SCHEMA_DIR, marker the table the file creates last) it
//   - skips the database when the marker table exists (already loaded: a re-run changes nothing);
//   - loads the file into an empty database, then checks the marker exists;
//   - refuses a database that holds tables but not the marker: an interrupted load, or
//     another version's schema, which it will not load over.
//
// It first waits (bounded by $SCHEMA_WAIT_SECONDS) until the server answers. Connection
// settings as DBWaitScript's (components/apim): DB_HOST, DB_PORT, DB_USER, DB_PASSWORD,
// DB_SSL_MODE, DB_SERVER_CA; files in $WORK_DIR.
const SchemaScript = `set -eu
dir="$WORK_DIR"
trap 'rm -f "$dir/client.cnf" "$dir/ca.pem"' EXIT
umask 077
printf '[client]\npassword="%s"\n' "$DB_PASSWORD" >"$dir/client.cnf"
set -- --defaults-extra-file="$dir/client.cnf" --protocol=TCP --connect-timeout=10 \
  -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER"
case "${DB_SSL_MODE:-}" in
  "") ;;
  VERIFY_CA|VERIFY_IDENTITY)
    printf '%s\n' "${DB_SERVER_CA:?DB_SSL_MODE $DB_SSL_MODE needs DB_SERVER_CA}" >"$dir/ca.pem"
    set -- "$@" --ssl-mode="$DB_SSL_MODE" --ssl-ca="$dir/ca.pem" ;;
  *) set -- "$@" --ssl-mode="$DB_SSL_MODE" ;;
esac
start=$(date +%s)
until out=$(mysql "$@" -N -B -e 'SELECT 1' 2>&1); do
  if [ $(( $(date +%s) - start )) -ge "${SCHEMA_WAIT_SECONDS:-600}" ]; then
    echo "schema: $DB_HOST:$DB_PORT did not answer $DB_USER in ${SCHEMA_WAIT_SECONDS:-600} s: $out" >&2
    exit 1
  fi
  sleep 5
done
for spec in $SCHEMAS; do
  db=${spec%%=*}
  rest=${spec#*=}
  file="$SCHEMA_DIR/${rest%%:*}"
  marker=${rest#*:}
  if ! grep -q "CREATE TABLE IF NOT EXISTS $marker" "$file"; then
    echo "schema: $file does not create $marker; this API Manager version's scripts need another marker table" >&2
    exit 1
  fi
  tables=$(mysql "$@" -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db'")
  has=$(mysql "$@" -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db' AND table_name='$marker'")
  if [ "$has" = 1 ]; then
    echo "schema: $db already holds its schema ($tables tables, $marker among them); nothing to do"
    continue
  fi
  if [ "$tables" != 0 ]; then
    echo "schema: $db holds $tables tables but not $marker, the last table its script creates: an interrupted load, or another version's schema. Not loading over it: empty $db (or restore a backup) and run this Job again" >&2
    exit 1
  fi
  t=$(date +%s)
  echo "schema: loading $(basename "$file") into $db"
  mysql "$@" "$db" <"$file"
  has=$(mysql "$@" -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db' AND table_name='$marker'")
  if [ "$has" != 1 ]; then
    echo "schema: loading $(basename "$file") into $db did not create $marker" >&2
    exit 1
  fi
  tables=$(mysql "$@" -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$db'")
  echo "schema: $db loaded, $tables tables, in $(( $(date +%s) - t )) s"
done
`

// schemaFiles are the files copySchemas leaves, by database.
var schemaFiles = map[string]string{APIMDatabase: "apimgt-mysql.sql", SharedDatabase: "shared-mysql.sql"}

// NewExternal creates the Secret, the selector-less headless Service and its EndpointSlice,
// the schema Job and its NetworkPolicy. Pass the Kubernetes provider in opts.
func NewExternal(ctx *pulumi.Context, name string, args *ExternalArgs, opts ...pulumi.ResourceOption) (*MySQL, error) {
	if args == nil {
		return nil, fmt.Errorf("mysql %q: args are required", name)
	}
	a := *args
	if a.Name == "" {
		a.Name = "mysql"
	}
	if a.SSLMode == "" {
		a.SSLMode = "VERIFY_CA"
	}
	if a.ClientImage == "" {
		a.ClientImage = "mysql:8.4"
	}
	var p validate.Problems
	p.OneOf("SSLMode", a.SSLMode, "VERIFY_CA", "REQUIRED")
	p.CIDR("AddressRange", a.AddressRange)
	p.Image("ClientImage", a.ClientImage, "mysql:8.4")
	var missing []string
	for _, m := range []struct {
		field string
		empty bool
	}{
		{"Namespace", a.Namespace == nil}, {"Address", a.Address == nil}, {"AddressRange", a.AddressRange == ""},
		{"Username", a.Username == ""}, {"Password", a.Password == nil}, {"ServerCA", a.SSLMode == "VERIFY_CA" && a.ServerCA == nil},
		{"APIMImage", a.APIMImage == ""}, {"APIMServerHome", a.APIMServerHome == ""},
		{"Markers", a.Markers[APIMDatabase] == "" || a.Markers[SharedDatabase] == ""},
	} {
		if m.empty {
			missing = append(missing, m.field)
		}
	}
	if len(missing) > 0 {
		p.Addf("args", "%s required", strings.Join(missing, ", "))
	}
	if err := p.Err(fmt.Sprintf("mysql %q", name)); err != nil {
		return nil, err
	}
	m := &MySQL{Host: a.Name, Port: Port, Username: a.Username, SSLMode: a.SSLMode, ServerCA: a.ServerCA,
		PasswordSecret: kube.SecretRef{Name: a.Name + "-credentials", Key: "password"}}
	if err := ctx.RegisterComponentResource("wso2apim:mysql:External", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	labels := kube.Labels(a.Name, Component, "", nil)
	meta := func(n string, l map[string]string) *metav1.ObjectMetaArgs { return kube.Meta(n, a.Namespace, l) }

	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata:   meta(m.PasswordSecret.Name, labels),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{"password": pulumi.ToSecret(a.Password).(pulumi.StringOutput)},
	}, parent)
	if err != nil {
		return nil, err
	}
	// Headless and without a selector: the name resolves straight to the server's address,
	// so NetworkPolicies see that address, and nothing in the cluster proxies the traffic.
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta(a.Name, labels),
		Spec: &corev1.ServiceSpecArgs{
			ClusterIP: pulumi.String("None"),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("mysql"), Port: pulumi.Int(Port), TargetPort: pulumi.Int(Port),
			}},
		},
	}, parent); err != nil {
		return nil, err
	}
	sliceLabels := kube.Labels(a.Name, Component, "", map[string]string{
		"kubernetes.io/service-name":             a.Name,
		"endpointslice.kubernetes.io/managed-by": kube.PartOf,
	})
	if _, err := discoveryv1.NewEndpointSlice(ctx, name, &discoveryv1.EndpointSliceArgs{
		Metadata:    meta(a.Name, sliceLabels),
		AddressType: pulumi.String("IPv4"),
		Endpoints: discoveryv1.EndpointArray{discoveryv1.EndpointArgs{
			Addresses:  pulumi.StringArray{a.Address},
			Conditions: &discoveryv1.EndpointConditionsArgs{Ready: pulumi.Bool(true)},
		}},
		Ports: discoveryv1.EndpointPortArray{discoveryv1.EndpointPortArgs{
			Name: pulumi.String("mysql"), Port: pulumi.Int(Port), Protocol: pulumi.String("TCP"),
		}},
	}, parent); err != nil {
		return nil, err
	}

	if err := newSchemaJob(ctx, name, a, secret, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"host": pulumi.String(m.Host)}); err != nil {
		return nil, err
	}
	return m, nil
}

// schemaComponent labels the schema Job's pods.
const schemaComponent = "database-schema"

func newSchemaJob(ctx *pulumi.Context, name string, a ExternalArgs, secret *corev1.Secret, parent pulumi.ResourceOption) error {
	jname := a.Name + "-schema"
	labels := kube.Labels(jname, schemaComponent, kube.ImageTag(a.APIMImage), nil)
	var specs []string
	for _, db := range kube.SortedKeys(schemaFiles) {
		specs = append(specs, db+"="+schemaFiles[db]+":"+a.Markers[db])
	}
	sort.Strings(specs)
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("DB_HOST"), Value: pulumi.String(a.Name)},
		corev1.EnvVarArgs{Name: pulumi.String("DB_PORT"), Value: pulumi.String(fmt.Sprint(Port))},
		corev1.EnvVarArgs{Name: pulumi.String("DB_USER"), Value: pulumi.String(a.Username)},
		corev1.EnvVarArgs{Name: pulumi.String("DB_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secret.Metadata.Name().Elem(), Key: pulumi.String("password")}}},
		corev1.EnvVarArgs{Name: pulumi.String("DB_SSL_MODE"), Value: pulumi.String(a.SSLMode)},
		corev1.EnvVarArgs{Name: pulumi.String("SCHEMAS"), Value: pulumi.String(strings.Join(specs, " "))},
		corev1.EnvVarArgs{Name: pulumi.String("SCHEMA_DIR"), Value: pulumi.String(schemaDir)},
		corev1.EnvVarArgs{Name: pulumi.String("WORK_DIR"), Value: pulumi.String("/work")},
	}
	if a.ServerCA != nil {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("DB_SERVER_CA"), Value: a.ServerCA})
	}
	opts := []pulumi.ResourceOption{parent,
		// The API Manager image's scripts and the load take a few minutes on a small instance.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "20m", Update: "20m"})}
	if len(a.After) > 0 {
		opts = append(opts, pulumi.DependsOn(a.After))
	}
	if _, err := batchv1.NewJob(ctx, name+"-schema", &batchv1.JobArgs{
		Metadata: kube.Meta(jname, a.Namespace, labels),
		Spec: &batchv1.JobSpecArgs{
			// A refusal (a half-loaded database) fails every retry the same way; a few cover
			// a server that restarts while the Job runs.
			BackoffLimit: pulumi.Int(3),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("Never"),
					SecurityContext:              kube.PodSecurity(uid),
					AutomountServiceAccountToken: pulumi.Bool(false),
					InitContainers:               corev1.ContainerArray{schemasInit(a.APIMImage, a.APIMServerHome)},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("load"),
						Image:           pulumi.String(a.ClientImage),
						Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(SchemaScript)},
						Env:             env,
						SecurityContext: kube.ContainerSecurity(uid, true),
						Resources:       SchemaJobResources.Args(),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("schemas"), MountPath: pulumi.String(schemaDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("work"), MountPath: pulumi.String("/work")},
						},
					}},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("schemas"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}},
						corev1.VolumeArgs{Name: pulumi.String("work"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{Medium: pulumi.String("Memory"), SizeLimit: pulumi.String("1Mi")}},
					},
				},
			},
		},
	}, opts...); err != nil {
		return err
	}
	egress := []kube.Rule{{Peers: []kube.Peer{{CIDR: a.AddressRange}}, Ports: kube.TCP(Port)}}
	return kube.NewPolicy(ctx, name+"-schema", kube.Meta(jname, a.Namespace, labels), kube.Selector(jname, schemaComponent), nil, egress, parent)
}
