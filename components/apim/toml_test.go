package apim_test

import (
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
)

func workload() apim.Workload {
	return apim.Workload{
		Database: apim.Database{Host: "mysql", Username: "apimadmin", Password: kube.SecretRef{Name: "mysql-credentials", Key: "password"}},
		JDBCDriver: apim.JDBCDriver{URL: "https://mirror.example/mysql.jar",
			SHA256: "0000000000000000000000000000000000000000000000000000000000000000"},
		ManagementHostname: "am.example.com",
		GatewayHostname:    "gw.example.com",
		Credentials: apim.Credentials{
			AdminPassword: kube.SecretRef{Name: "c", Key: "admin-password"},
			EncryptionKey: kube.SecretRef{Name: "c", Key: "encryption-key"},
		},
	}
}

// decoded parses a rendered deployment.toml; an invalid file fails here, as it would fail
// API Manager's start.
func decoded(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	_, err := toml.Decode(s, &m)
	require.NoError(t, err, s)
	return m
}

func table(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		require.True(t, ok, "no table %v", path)
		m = next
	}
	return m
}

func TestControlPlaneTOML(t *testing.T) {
	m := decoded(t, apim.RenderControlPlaneTOML(apim.ControlPlaneArgs{Workload: workload()}.WithDefaults()))
	assert.Equal(t, "am.example.com", table(t, m, "server")["hostname"])
	db := table(t, m, "database")
	assert.Equal(t, "jdbc:mysql://mysql:3306/apim_db?useSSL=false&allowPublicKeyRetrieval=true&autoReconnect=true", table(t, db, "apim_db")["url"])
	assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db?useSSL=false&allowPublicKeyRetrieval=true&autoReconnect=true", table(t, db, "shared_db")["url"])
	assert.Equal(t, "com.mysql.cj.jdbc.Driver", table(t, db, "apim_db")["driver"])
	assert.Equal(t, "$env{WSO2_DB_PASSWORD}", table(t, db, "apim_db")["password"])
	assert.Equal(t, "$env{WSO2_ADMIN_PASSWORD}", table(t, m, "super_admin")["password"])
	assert.Equal(t, "$env{WSO2_ENCRYPTION_KEY}", table(t, m, "encryption")["key"])
	assert.Equal(t, "https://apim-cp:${mgt.transport.https.port}/services/", table(t, m, "apim", "key_manager")["service_url"])
	assert.Equal(t, "https://apim-cp:9443/oauth2/jwks", table(t, m, "oauth", "endpoints")["oauth2_jwks_url"])
	env := table(t, m, "apim", "gateway")["environment"].([]map[string]any)[0]
	assert.Equal(t, "https://apim-gw:9443/services/", env["service_url"], "the control plane deploys APIs to the gateway Service")
	assert.Equal(t, "https://gw.example.com", env["https_endpoint"])
	assert.Equal(t, false, table(t, m, "apim", "analytics")["enable"])
}

func TestGatewayTOML(t *testing.T) {
	m := decoded(t, apim.RenderGatewayTOML(apim.GatewayArgs{Workload: workload()}.WithDefaults()))
	assert.Equal(t, "gw.example.com", table(t, m, "server")["hostname"])
	db := table(t, m, "database")
	assert.NotContains(t, db, "apim_db", "gateways get APIs from the control plane, not the database")
	assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db?useSSL=false&allowPublicKeyRetrieval=true&autoReconnect=true", table(t, db, "shared_db")["url"])
	hub := table(t, m, "apim", "event_hub")
	assert.Equal(t, true, hub["enable"])
	assert.Equal(t, "https://apim-cp:9443/services/", hub["service_url"])
	assert.Equal(t, []any{"tcp://apim-cp:5672"}, hub["event_listening_endpoints"])
	th := table(t, m, "apim", "throttling")
	assert.Equal(t, []any{"tcp://apim-cp:5672"}, th["throttle_decision_endpoints"])
	group := th["url_group"].([]map[string]any)[0]
	assert.Equal(t, []any{"tcp://apim-cp:9611"}, group["traffic_manager_urls"])
	assert.Equal(t, []any{"ssl://apim-cp:9711"}, group["traffic_manager_auth_urls"])
	assert.Equal(t, "https://apim-cp:9443/services/", table(t, m, "apim", "key_manager")["service_url"])
	assert.Equal(t, []any{"Default"}, table(t, m, "apim", "sync_runtime_artifacts", "gateway")["gateway_labels"])
}

func TestAnalyticsBlock(t *testing.T) {
	w := workload()
	w.Analytics = apim.Analytics{Type: "moesif", MoesifKey: kube.SecretRef{Name: "a", Key: "moesif"}}
	m := decoded(t, apim.RenderGatewayTOML(apim.GatewayArgs{Workload: w}.WithDefaults()))
	a := table(t, m, "apim", "analytics")
	assert.Equal(t, true, a["enable"])
	assert.Equal(t, "moesif", a["type"])
	assert.Equal(t, "$env{WSO2_MOESIF_KEY}", table(t, a, "properties")["moesifKey"])
}

func TestDefaultsFollowTheImageTag(t *testing.T) {
	a := apim.ControlPlaneArgs{Workload: apim.Workload{Image: "registry.example:5000/wso2/wso2am:4.6.0"}}.WithDefaults()
	assert.Equal(t, "/home/wso2carbon/wso2am-4.6.0", a.ServerHome)
	g := apim.GatewayArgs{}.WithDefaults()
	assert.Equal(t, "wso2/wso2am-universal-gw:4.7.0", g.Image)
	assert.Equal(t, 1, g.MinReplicas)
	assert.Equal(t, 2, g.MaxReplicas)
	assert.Equal(t, 70, g.CPUTargetPercent)
	assert.Equal(t, 30, *g.MinReadySeconds)
}
