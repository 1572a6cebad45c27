package mysql_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeMySQL = "wso2apim:mysql:MySQL"

func boolp(v bool) *bool { return &v }

// minimal are the required args only. The passwords are plain strings: the component must
// mark them secret itself.
func minimal() *mysql.Args {
	return &mysql.Args{
		Namespace:      pulumi.String("apps"),
		APIMImage:      "wso2/wso2am:4.7.0",
		APIMServerHome: "/home/wso2carbon/wso2am-4.7.0",
		RootPassword:   pulumi.String("root-pw-DO-NOT-USE"),
		Password:       pulumi.String("app-pw-DO-NOT-USE"),
	}
}

func run(t *testing.T, args *mysql.Args) (*harness.Graph, *mysql.MySQL) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, mysql.NewMySQL, "db", args)
}

func TestMySQLAlone(t *testing.T) {
	g, m := run(t, minimal())
	assert.ElementsMatch(t, []string{
		harness.TypeSecret + " db-credentials", harness.TypeConfigMap + " db-initdb", harness.TypeService + " db", harness.TypeStatefulSet + " db", harness.TypeNetworkPolicy + " db",
		harness.TypePVC + " db-backup", harness.TypeCronJob + " db-backup", harness.TypeNetworkPolicy + " db-backup",
	}, harness.Children(t, g, typeMySQL))

	// What a client needs, from the defaults.
	assert.Equal(t, "mysql", m.Host)
	assert.Equal(t, 3306, m.Port)
	assert.Equal(t, "apimadmin", m.Username)
	assert.Equal(t, kube.SecretRef{Name: "mysql-credentials", Key: "password"}, m.PasswordSecret)

	secret := g.Find(harness.TypeSecret, "db-credentials")
	assert.Equal(t, "mysql-credentials", secret.Get("metadata.name"))
	assert.Equal(t, "apps", secret.Get("metadata.namespace"))
	assert.Equal(t, "root-pw-DO-NOT-USE", secret.Get("stringData.root-password"))
	assert.Equal(t, "app-pw-DO-NOT-USE", secret.Get("stringData.password"))
	assert.True(t, secret.IsSecret("stringData.root-password"), "marked secret by the component")
	assert.True(t, secret.IsSecret("stringData.password"), "marked secret by the component")

	initdb := g.Find(harness.TypeConfigMap, "db-initdb")
	assert.Equal(t, "mysql-initdb", initdb.Get("metadata.name"))
	script := initdb.String("data[01-apim-databases.sh]")
	assert.Contains(t, script, "CREATE DATABASE IF NOT EXISTS apim_db CHARACTER SET latin1;")
	assert.Contains(t, script, "CREATE DATABASE IF NOT EXISTS shared_db CHARACTER SET latin1;")
	assert.NotContains(t, script, "DO-NOT-USE", "passwords come from the environment")

	svc := g.Find(harness.TypeService, "db")
	assert.Equal(t, "mysql", svc.Get("metadata.name"))
	assert.Equal(t, "None", svc.Get("spec.clusterIP"), "headless, governing the StatefulSet")
	assert.Equal(t, 3306.0, svc.Get("spec.ports.0.port"))

	sts := g.Find(harness.TypeStatefulSet, "db")
	assert.True(t, sts.Protect, "protected by default")
	assert.Equal(t, "mysql", sts.Get("metadata.name"))
	assert.Equal(t, "mysql", sts.Get("spec.serviceName"))
	assert.Equal(t, 1.0, sts.Get("spec.replicas"))
	assert.Equal(t, map[string]any{"whenDeleted": "Retain", "whenScaled": "Retain"}, sts.Get("spec.persistentVolumeClaimRetentionPolicy"))
	assert.Equal(t, "20Gi", sts.Get("spec.volumeClaimTemplates.0.spec.resources.requests.storage"), "default storage size")
	assert.Nil(t, sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"), "the cluster's default class")
	c := "spec.template.spec.containers.0."
	assert.Equal(t, "mysql:8.4", sts.Get(c+"image"), "default image")
	assert.Equal(t, map[string]any{"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "256Mi"}, sts.Get(c+"resources.requests"))
	assert.Equal(t, map[string]any{"cpu": "2", "memory": "2Gi", "ephemeral-storage": "1Gi"}, sts.Get(c+"resources.limits"))
	assert.Equal(t, []any{
		map[string]any{"name": "MYSQL_ROOT_PASSWORD", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "mysql-credentials", "key": "root-password"}}},
		map[string]any{"name": "MYSQL_USER", "value": "apimadmin"},
		map[string]any{"name": "MYSQL_PASSWORD", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "mysql-credentials", "key": "password"}}},
	}, sts.Get(c+"env"), "passwords only by Secret reference")
	assert.True(t, g.DependsOn(sts, secret))
	assert.True(t, g.DependsOn(sts, initdb))
	init := "spec.template.spec.initContainers.0."
	assert.Equal(t, "wso2/wso2am:4.7.0", sts.Get(init+"image"), "schemas from the API Manager image")
	assert.Contains(t, sts.String(init+"command.2"), `home="/home/wso2carbon/wso2am-4.7.0"`)
	assert.Regexp(t, `^[0-9a-f]{64}$`, sts.Get("spec.template.metadata.annotations[checksum/initdb]"))
	assert.Equal(t, "database", sts.Get("spec.template.metadata.labels[app.kubernetes.io/component]"))

	assert.Equal(t, []any{"--max-connections=1000"}, sts.Get(c+"args"), "WSO2's own setup's number, not MySQL's 151")
	assert.Equal(t, 365.0, sts.Get("spec.template.spec.volumes.0.configMap.defaultMode"),
		"the init script is executable: the entrypoint runs it instead of sourcing it")

	np := g.Find(harness.TypeNetworkPolicy, "db")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "mysql", "app.kubernetes.io/component": "database"}, np.Get("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{map[string]any{
		"from":  []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "mysql-backup", "app.kubernetes.io/component": "database-backup"}}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 3306.0}},
	}}, np.Get("spec.ingress"), "no clients given: only the backup may connect")
}

func TestArgsAreApplied(t *testing.T) {
	a := minimal()
	a.Name, a.Image, a.Username, a.StorageSize, a.StorageClass = "apim-db", "mysql:8.4.3", "wso2", "50Gi", "ssd"
	a.Resources = kube.Resources{Limits: kube.Compute{Memory: "4Gi"}}
	a.Protect = boolp(false)
	a.Clients = []kube.Peer{{Pods: map[string]string{"app": "cp"}}, {Pods: map[string]string{"app": "gw"}}}
	g, m := run(t, a)

	assert.Equal(t, "apim-db", m.Host)
	assert.Equal(t, "wso2", m.Username)
	assert.Equal(t, kube.SecretRef{Name: "apim-db-credentials", Key: "password"}, m.PasswordSecret)
	sts := g.Find(harness.TypeStatefulSet, "db")
	assert.False(t, sts.Protect, "Protect false is followed")
	for _, r := range g.All() {
		assert.False(t, r.Protect, "%s %s", r.Type, r.Name)
	}
	assert.Equal(t, "apim-db", sts.Get("metadata.name"))
	assert.Equal(t, "mysql:8.4.3", sts.Get("spec.template.spec.containers.0.image"))
	assert.Equal(t, "50Gi", sts.Get("spec.volumeClaimTemplates.0.spec.resources.requests.storage"))
	assert.Equal(t, "ssd", sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"))
	assert.Equal(t, map[string]any{"cpu": "2", "memory": "4Gi", "ephemeral-storage": "1Gi"}, sts.Get("spec.template.spec.containers.0.resources.limits"), "unset quantities keep their defaults")
	assert.Equal(t, "wso2", sts.Get("spec.template.spec.containers.0.env.1.value"))
	assert.Equal(t, "apim-db-initdb", g.Find(harness.TypeConfigMap, "db-initdb").Get("metadata.name"))

	np := g.Find(harness.TypeNetworkPolicy, "db")
	assert.Equal(t, []any{
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "cp"}}},
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "gw"}}},
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "apim-db-backup", "app.kubernetes.io/component": "database-backup"}}},
	}, np.Get("spec.ingress.0.from"))
	assert.Equal(t, []any{map[string]any{"protocol": "TCP", "port": 3306.0}}, np.Get("spec.ingress.0.ports"))
}

// The pod rolls when what the init container runs changes.
func TestInitChecksumFollowsServerHome(t *testing.T) {
	checksum := func(home string) string {
		a := minimal()
		a.APIMServerHome = home
		g, _ := run(t, a)
		return g.Find(harness.TypeStatefulSet, "db").String("spec.template.metadata.annotations[checksum/initdb]")
	}
	a, b := checksum("/home/wso2carbon/wso2am-4.7.0"), checksum("/home/wso2carbon/wso2am-4.6.0")
	assert.NotEmpty(t, a)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, checksum("/home/wso2carbon/wso2am-4.7.0"), "stable for the same input")
}

func TestVersionLabelFollowsTheImage(t *testing.T) {
	a := minimal()
	a.Image = "mysql:8.0.39"
	g, _ := run(t, a)
	assert.Equal(t, "8.0.39", g.Find(harness.TypeStatefulSet, "db").Get("metadata.labels[app.kubernetes.io/version]"))
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	const required = `args: Namespace, APIMImage, APIMServerHome, RootPassword and Password are required`
	drop := func(f func(a *mysql.Args)) *mysql.Args { a := minimal(); f(a); return a }
	cases := []harness.Refusal[*mysql.Args]{
		{"nil args", nil, `mysql "db": args are required`},
		{"nothing set", &mysql.Args{}, `mysql "db": ` + required},
		{"no namespace", drop(func(a *mysql.Args) { a.Namespace = nil }), `mysql "db": ` + required},
		{"no API Manager image", drop(func(a *mysql.Args) { a.APIMImage = "" }), `mysql "db": ` + required},
		{"no server home", drop(func(a *mysql.Args) { a.APIMServerHome = "" }), `mysql "db": ` + required},
		{"no root password", drop(func(a *mysql.Args) { a.RootPassword = nil }), `mysql "db": ` + required},
		{"no password", drop(func(a *mysql.Args) { a.Password = nil }), `mysql "db": ` + required},
		{"bad values and missing ones at once", &mysql.Args{Image: "my sql", Username: "1admin"},
			`mysql "db": image: "my sql" is not valid; want an image reference such as mysql:8.4; ` +
				`username: "1admin" is not valid; want a MySQL user name (letters, digits, '_', at most 32); ` + required},
	}
	harness.ExpectRefusals(t, mysql.NewMySQL, "db", cases)
}

func TestWithDefaults(t *testing.T) {
	a := mysql.Args{}.WithDefaults()
	assert.Equal(t, "mysql", a.Name)
	assert.Equal(t, "mysql:8.4", a.Image)
	assert.Equal(t, "apimadmin", a.Username)
	assert.Equal(t, "20Gi", a.StorageSize)
	assert.Equal(t, "", a.StorageClass, "the cluster's default class")
	assert.Equal(t, kube.Resources{Requests: kube.Compute{CPU: "500m", Memory: "1Gi", EphemeralStorage: "256Mi"},
		Limits: kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "1Gi"}}, a.Resources)
	require.NotNil(t, a.Protect)
	assert.True(t, *a.Protect)
	assert.Equal(t, 1000, a.MaxConnections)
	assert.Equal(t, mysql.BackupArgs{Enabled: boolp(true), Schedule: "0 */6 * * *", Keep: 28, StorageSize: "10Gi"}, a.Backup)
	assert.False(t, *mysql.Args{Protect: boolp(false)}.WithDefaults().Protect)
}

func TestValidate(t *testing.T) {
	cases := []harness.Validation[mysql.Args]{
		{"defaults", mysql.Args{}, ""},
		{"image valid", mysql.Args{Image: "registry.local/mysql:8.4.3"}, ""},
		{"image", mysql.Args{Image: "mysql 8"}, `mysql.image: "mysql 8" is not valid; want an image reference such as mysql:8.4`},
		{"username of 32", mysql.Args{Username: "a234567890123456789012345678901b"}, ""},
		{"username too long", mysql.Args{Username: "a2345678901234567890123456789012x"},
			`mysql.username: "a2345678901234567890123456789012x" is not valid; want a MySQL user name (letters, digits, '_', at most 32)`},
		{"username with a quote", mysql.Args{Username: "apim'admin"},
			`mysql.username: "apim'admin" is not valid; want a MySQL user name (letters, digits, '_', at most 32)`},
		{"storage size valid", mysql.Args{StorageSize: "100Gi"}, ""},
		{"storage size", mysql.Args{StorageSize: "100 GB"}, `mysql.storageSize: "100 GB" is not valid; want a size such as 20Gi`},
		{"max connections", mysql.Args{MaxConnections: 100001}, "mysql.maxConnections: 100001 is not valid; want 1 to 100000"},
		{"backup", mysql.Args{Backup: mysql.BackupArgs{Keep: -2}}, "mysql.backup.keep: -2 is not valid; want 1 to 1000"},
		{"resources", mysql.Args{Resources: kube.Resources{Requests: kube.Compute{Memory: "3Gi"}}},
			"mysql.resources.requests.memory: 3Gi is above mysql.resources.limits.memory (2Gi); want requests <= limits"},
	}
	harness.ExpectProblems(t, func(args mysql.Args) []string { return args.WithDefaults().Validate("mysql") }, cases)
}
