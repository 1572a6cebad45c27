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

const (
	typeExternal = "wso2apim:mysql:External"
	ca           = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
)

func external() *mysql.ExternalArgs {
	return &mysql.ExternalArgs{
		Namespace:      pulumi.String("apps"),
		Address:        pulumi.String("10.40.0.3"),
		AddressRange:   "10.40.0.0/20",
		Username:       "apimadmin",
		Password:       pulumi.String("app-pw-DO-NOT-USE"),
		ServerCA:       pulumi.String(ca),
		APIMImage:      "wso2/wso2am:4.7.0",
		APIMServerHome: "/home/wso2carbon/wso2am-4.7.0",
		Markers:        map[string]string{"apim_db": "AM_LAST", "shared_db": "UM_LAST"},
	}
}

func runExternal(t *testing.T, args *mysql.ExternalArgs) (*harness.Graph, *mysql.MySQL) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, mysql.NewExternal, "db", args)
}

func TestExternalMySQL(t *testing.T) {
	g, m := runExternal(t, external())
	kids := harness.Children(t, g, typeExternal)
	assert.ElementsMatch(t, []string{harness.TypeSecret + " db-credentials", harness.TypeService + " db", harness.TypeEndpointSlice + " db",
		harness.TypeJob + " db-schema", harness.TypeNetworkPolicy + " db-schema"}, kids)

	// What API Manager needs, as from the in-cluster server, plus TLS.
	assert.Equal(t, "mysql", m.Host)
	assert.Equal(t, 3306, m.Port)
	assert.Equal(t, "apimadmin", m.Username)
	assert.Equal(t, kube.SecretRef{Name: "mysql-credentials", Key: "password"}, m.PasswordSecret)
	assert.Equal(t, "VERIFY_CA", m.SSLMode)
	assert.NotNil(t, m.ServerCA)

	secret := g.Find(harness.TypeSecret, "db-credentials")
	assert.Equal(t, map[string]any{"password": "app-pw-DO-NOT-USE"}, secret.Get("stringData"))
	assert.True(t, secret.IsSecret("stringData.password"))

	svc := g.Find(harness.TypeService, "db")
	assert.Equal(t, "mysql", svc.Get("metadata.name"))
	assert.Equal(t, "None", svc.Get("spec.clusterIP"), "the name resolves to the server itself")
	assert.Nil(t, svc.Get("spec.selector"), "no pods: the endpoint is the server's address")
	slice := g.Find(harness.TypeEndpointSlice, "db")
	assert.Equal(t, "mysql", slice.Get("metadata.labels[kubernetes.io/service-name]"))
	assert.Equal(t, "wso2-apim", slice.Get("metadata.labels[endpointslice.kubernetes.io/managed-by]"), "not the EndpointSlice controller's")
	assert.Equal(t, "IPv4", slice.Get("addressType"))
	assert.Equal(t, []any{map[string]any{"addresses": []any{"10.40.0.3"}, "conditions": map[string]any{"ready": true}}}, slice.Get("endpoints"))
	assert.Equal(t, []any{map[string]any{"name": "mysql", "port": 3306.0, "protocol": "TCP"}}, slice.Get("ports"))

	job := g.Find(harness.TypeJob, "db-schema")
	assert.Equal(t, "mysql-schema", job.Get("metadata.name"), "named: it runs once, and again only when its template changes")
	ps := "spec.template.spec."
	assert.Equal(t, "Never", job.Get(ps+"restartPolicy"))
	assert.Equal(t, 3.0, job.Get("spec.backoffLimit"))
	assert.Equal(t, "wso2/wso2am:4.7.0", job.Get(ps+"initContainers.0.image"), "the scripts of the API Manager image itself")
	assert.Contains(t, job.String(ps+"initContainers.0.command.2"), `home="/home/wso2carbon/wso2am-4.7.0"`)
	assert.Equal(t, "mysql:8.4", job.Get(ps+"containers.0.image"))
	assert.Equal(t, []any{"sh", "-c", mysql.SchemaScript}, job.Get(ps+"containers.0.command"))
	assert.Equal(t, map[string]string{
		"DB_HOST": "mysql", "DB_PORT": "3306", "DB_USER": "apimadmin", "DB_PASSWORD": "secret:mysql-credentials/password",
		"DB_SSL_MODE": "VERIFY_CA", "DB_SERVER_CA": ca, "SCHEMA_DIR": "/schemas", "WORK_DIR": "/work",
		"SCHEMAS": "apim_db=apimgt-mysql.sql:AM_LAST shared_db=shared-mysql.sql:UM_LAST",
	}, harness.Env(t, job, ps+"containers.0"))
	assert.Equal(t, true, job.Get(ps+"containers.0.securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, map[string]any{"name": "work", "emptyDir": map[string]any{"medium": "Memory", "sizeLimit": "1Mi"}}, job.Get(ps+"volumes.1"))
	assert.True(t, g.DependsOn(job, secret))

	np := g.Find(harness.TypeNetworkPolicy, "db-schema")
	assert.Equal(t, []any{}, np.Get("spec.ingress"))
	assert.Equal(t, []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.40.0.0/20"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 3306.0}}}}, np.Get("spec.egress"), "the server, nothing else")
}

func TestExternalRefusesBadArgs(t *testing.T) {
	a := external()
	a.ServerCA, a.Markers, a.SSLMode = nil, nil, "DISABLED"
	newErr := harness.Refused(t, mysql.NewExternal, "db", a)
	assert.EqualError(t, newErr, `mysql "db": SSLMode: "DISABLED" is not valid; use one of VERIFY_CA, REQUIRED; args: Markers required`)

	a = external()
	a.ServerCA = nil
	_, _, newErr = harness.TryConstruct(harness.Mocks{}, mysql.NewExternal, "db", a)
	require.Error(t, newErr)
	assert.EqualError(t, newErr, `mysql "db": args: ServerCA required`, "VERIFY_CA needs the CA")
}
