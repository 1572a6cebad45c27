package apim_test

import (
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Every API Manager pod waits for its database, after the driver download and before the
// server: a real connection with the application user's credentials, and the schema loaded.
func TestEveryAPIManagerPodWaitsForItsDatabase(t *testing.T) {
	cpGraph, _ := runControlPlane(t, aloneControlPlane())
	gwGraph, _ := runGateway(t, aloneGateway())
	for _, c := range []struct {
		dep    *harness.Resource
		tables string
	}{
		{cpGraph.Find(harness.TypeStatefulSet, "cp"), "apim_db.AM_API_KEY_APPLICATION_MAPPING shared_db.UM_ORG_HIERARCHY"},
		{gwGraph.Find(harness.TypeDeployment, "gw"), "shared_db.UM_ORG_HIERARCHY"},
	} {
		require.NotNil(t, c.dep)
		inits, _ := c.dep.Get("spec.template.spec.initContainers").([]any)
		var names []string
		for _, i := range inits {
			names = append(names, i.(map[string]any)["name"].(string))
		}
		assert.Equal(t, "wait-for-database", names[len(names)-1], "%s: the wait runs last, just before the server (%v)", c.dep.Name, names)
		w := harness.InitContainer(t, c.dep, "wait-for-database")
		assert.Equal(t, apim.DefaultClientImage, c.dep.Get(w+".image"))
		assert.Equal(t, []any{"sh", "-c", apim.DBWaitScript}, c.dep.Get(w+".command"))
		e := harness.Env(t, c.dep, w)
		assert.Equal(t, map[string]string{
			"DB_HOST": "mysql", "DB_PORT": "3306", "DB_USER": "apimadmin", "DB_PASSWORD": "secret:mysql-credentials/password",
			"DB_TABLES": c.tables, "DB_WAIT_SECONDS": "600", "DB_WAIT_DIR": "/db-wait", "DB_SSL_MODE": "REQUIRED",
		}, e, "%s: encrypted, as the JDBC URLs (a server CA only when the database has one)", c.dep.Name)
		assert.Equal(t, map[string]any{"cpu": "50m", "memory": "32Mi", "ephemeral-storage": "16Mi"}, c.dep.Get(w+".resources.requests"))
		assert.Equal(t, map[string]any{"cpu": "200m", "memory": "128Mi", "ephemeral-storage": "64Mi"}, c.dep.Get(w+".resources.limits"))
		assert.Equal(t, true, c.dep.Get(w+".securityContext.runAsNonRoot"))
		assert.Equal(t, 10001.0, c.dep.Get(w+".securityContext.runAsUser"))
		assert.Equal(t, false, c.dep.Get(w+".securityContext.allowPrivilegeEscalation"))
		assert.Equal(t, true, c.dep.Get(w+".securityContext.readOnlyRootFilesystem"))
		assert.Equal(t, []any{"ALL"}, c.dep.Get(w+".securityContext.capabilities.drop"))
		assert.Equal(t, []any{map[string]any{"name": "db-wait", "mountPath": "/db-wait"}}, c.dep.Get(w+".volumeMounts"))
		vols, _ := c.dep.Get("spec.template.spec.volumes").([]any)
		assert.Contains(t, vols, map[string]any{"name": "db-wait", "emptyDir": map[string]any{"medium": "Memory", "sizeLimit": "1Mi"}},
			"the password file and CA never touch the node's disk")
	}
}

func TestDatabaseWaitUsesTheDatabasesTLSAndClientImage(t *testing.T) {
	args := aloneControlPlane()
	args.Database.Host, args.Database.Port = "10.30.0.5", 3307
	args.Database.SSLMode = "VERIFY_CA"
	args.Database.ServerCA = pulumi.String("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
	args.Database.ClientImage = "registry.example.org/mysql:8.4.3"
	g, _ := runControlPlane(t, args)
	dep := g.Find(harness.TypeStatefulSet, "cp")
	w := harness.InitContainer(t, dep, "wait-for-database")
	assert.Equal(t, "registry.example.org/mysql:8.4.3", dep.Get(w+".image"))
	e := harness.Env(t, dep, w)
	assert.Equal(t, "10.30.0.5", e["DB_HOST"])
	assert.Equal(t, "3307", e["DB_PORT"])
	assert.Equal(t, "VERIFY_CA", e["DB_SSL_MODE"])
	assert.Equal(t, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", e["DB_SERVER_CA"])
}

// The budget of connections the platform sizes the database by rests on two facts of the
// rendered deployment.toml: which datasources each role has, and each pool's maxActive.
func TestPoolFactsMatchTheRenderedTOML(t *testing.T) {
	for component, rendered := range map[string]string{
		apim.ComponentControlPlane: apim.RenderControlPlaneTOML(controlPlane(), 0),
		apim.ComponentGateway:      apim.RenderGatewayTOML(gateway()),
	} {
		dbs := table(t, decoded(t, rendered), "database")
		var names []string
		for name := range dbs {
			names = append(names, name)
			pool := table(t, dbs, name, "pool_options")
			assert.EqualValues(t, apim.PoolMaxActive, pool["maxActive"], "%s %s", component, name)
		}
		sort.Strings(names)
		want := append([]string(nil), apim.DatabasesOf(component)...)
		sort.Strings(want)
		assert.Equal(t, want, names, component)
		for _, d := range want {
			assert.NotEmpty(t, apim.SchemaMarkers[d], "%s has a marker table", d)
		}
	}
}
