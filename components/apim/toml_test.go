package apim_test

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

func shared() apim.Shared {
	return apim.Shared{
		Database:           apim.Database{Host: "mysql", Username: "apimadmin", Password: kube.SecretRef{Name: "mysql-credentials", Key: "password"}},
		ManagementHostname: "am.example.com",
		GatewayHostname:    "gw.example.com",
		Credentials: apim.Credentials{
			AdminPassword: kube.SecretRef{Name: "c", Key: "admin-password"},
			EncryptionKey: kube.SecretRef{Name: "c", Key: "encryption-key"},
		},
	}
}

func controlPlane() apim.ControlPlaneArgs {
	return apim.ControlPlaneArgs{Shared: shared()}.WithDefaults()
}
func gateway() apim.GatewayArgs { return apim.GatewayArgs{Shared: shared()}.WithDefaults() }

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

const jdbcParams = "?sslMode=REQUIRED&amp;autoReconnect=true"

func TestControlPlaneTOML(t *testing.T) {
	m := decoded(t, apim.RenderControlPlaneTOML(controlPlane(), 0))
	assert.Equal(t, "am.example.com", table(t, m, "server")["hostname"])
	db := table(t, m, "database")
	assert.Equal(t, "jdbc:mysql://mysql:3306/apim_db"+jdbcParams, table(t, db, "apim_db")["url"])
	assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db"+jdbcParams, table(t, db, "shared_db")["url"])
	assert.Equal(t, "com.mysql.cj.jdbc.Driver", table(t, db, "apim_db")["driver"])
	assert.NotContains(t, table(t, db, "apim_db", "pool_options"), "validationQuery", "WSO2's template writes its own; a second one duplicates the element")
	assert.Equal(t, "$env{WSO2_DB_PASSWORD}", table(t, db, "apim_db")["password"])
	assert.Equal(t, "$env{WSO2_ADMIN_PASSWORD}", table(t, m, "super_admin")["password"])
	assert.Equal(t, "$env{WSO2_ENCRYPTION_KEY}", table(t, m, "encryption")["key"])
	assert.Equal(t, "https://apim-cp:${mgt.transport.https.port}/services/", table(t, m, "apim", "key_manager")["service_url"])
	assert.Equal(t, "https://apim-cp:9443/oauth2/jwks", table(t, m, "oauth", "endpoints")["oauth2_jwks_url"])
	env := table(t, m, "apim", "gateway")["environment"].([]map[string]any)[0]
	assert.Equal(t, "https://apim-gw:9443/services/", env["service_url"], "the control plane deploys APIs to the gateway Service")
	assert.Equal(t, "https://gw.example.com", env["https_endpoint"])
	assert.Equal(t, false, table(t, m, "apim", "analytics")["enable"])
	assert.Equal(t, "moesif", table(t, m, "apim", "analytics")["type"], "WSO2's own default when analytics is off")
}

// The blocks WSO2 4.7.0's shipped deployment.toml and its Helm chart carry.
func TestControlPlaneCarriesWSO2sBlocks(t *testing.T) {
	m := decoded(t, apim.RenderControlPlaneTOML(controlPlane(), 0))
	tokenTypes := table(t, m, "oauth", "extensions")["token_types"].([]map[string]any)
	require.Len(t, tokenTypes, 1)
	assert.Equal(t, "JWT", tokenTypes[0]["name"])
	assert.Equal(t, "org.wso2.is.key.manager.tokenpersistence.issuer.ExtendedJWTTokenIssuer", tokenTypes[0]["issuer"])
	assert.Equal(t, false, table(t, m, "oauth", "token_persistence")["enable"], "JWTs that are not persisted")
	cors := table(t, m, "apim", "cors")
	assert.Subset(t, cors["allow_headers"], []any{"apikey", "Internal-Key", "authorization"})
	assert.Equal(t, "*", cors["allow_origins"])
	handlers := m["event_handler"].([]map[string]any)
	require.Len(t, handlers, 1)
	assert.Equal(t, "userPostSelfRegistration", handlers[0]["name"])
	assert.Equal(t, []any{"POST_ADD_USER"}, handlers[0]["subscriptions"])
	assert.Equal(t, `^[\sa-zA-Z0-9._-]*$`, table(t, m, "service_provider")["sp_name_regex"])
}

func TestWebSocketAndWebSubEndpoints(t *testing.T) {
	env := func(a apim.ControlPlaneArgs) map[string]any {
		return table(t, decoded(t, apim.RenderControlPlaneTOML(a, 0)), "apim", "gateway")["environment"].([]map[string]any)[0]
	}
	direct := env(controlPlane())
	assert.Equal(t, "ws://gw.example.com:9099", direct["ws_endpoint"], "no host of their own: the listeners' ports")
	assert.Equal(t, "wss://gw.example.com:8099", direct["wss_endpoint"])
	assert.Equal(t, "http://gw.example.com:9021", direct["websub_event_receiver_http_endpoint"])
	assert.Equal(t, "https://gw.example.com:8021", direct["websub_event_receiver_https_endpoint"])

	s := shared()
	s.WebSocketHostname, s.WebSubHostname = "ws.example.com", "websub.example.com"
	behindIngress := env(apim.ControlPlaneArgs{Shared: s}.WithDefaults())
	assert.Equal(t, "wss://ws.example.com", behindIngress["wss_endpoint"])
	assert.Equal(t, "https://websub.example.com", behindIngress["websub_event_receiver_https_endpoint"])
}

func TestGatewayTOML(t *testing.T) {
	m := decoded(t, apim.RenderGatewayTOML(gateway()))
	assert.Equal(t, "gw.example.com", table(t, m, "server")["hostname"])
	db := table(t, m, "database")
	assert.NotContains(t, db, "apim_db", "gateways get APIs from the control plane, not the database")
	assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db"+jdbcParams, table(t, db, "shared_db")["url"])
	hub := table(t, m, "apim", "event_hub")
	assert.Equal(t, true, hub["enable"])
	assert.Equal(t, "https://apim-cp:9443/services/", hub["service_url"])
	assert.Equal(t, []any{"tcp://apim-cp-0.apim-cp-nodes:5672"}, hub["event_listening_endpoints"])
	th := table(t, m, "apim", "throttling")
	assert.Equal(t, []any{"tcp://apim-cp-0.apim-cp-nodes:5672"}, th["throttle_decision_endpoints"])
	group := th["url_group"].([]map[string]any)[0]
	assert.Equal(t, []any{"tcp://apim-cp-0.apim-cp-nodes:9611"}, group["traffic_manager_urls"])
	assert.Equal(t, []any{"ssl://apim-cp-0.apim-cp-nodes:9711"}, group["traffic_manager_auth_urls"])
	assert.Equal(t, "https://apim-cp:9443/services/", table(t, m, "apim", "key_manager")["service_url"])
	assert.Equal(t, []any{"Default"}, table(t, m, "apim", "sync_runtime_artifacts", "gateway")["gateway_labels"])
	assert.Contains(t, table(t, m, "apim", "cors")["allow_headers"], "apikey")
	assert.NotContains(t, m, "event_handler", "self sign-up happens on the control plane")
}

// Three control plane nodes, active-active: each node forwards to the other two and decides
// from its own broker, every node's traffic manager is a url_group of every node and of every
// gateway, and gateways listen on every node.
func TestActiveActiveTOML(t *testing.T) {
	cp := apim.ControlPlaneArgs{Shared: shared(), Replicas: 3}.WithDefaults()
	nodes := []string{"apim-cp-0.apim-cp-nodes", "apim-cp-1.apim-cp-nodes", "apim-cp-2.apim-cp-nodes"}
	tomls := apim.RenderControlPlaneTOMLs(cp)
	require.Len(t, tomls, 3)
	groups := func(th map[string]any) (tm, auth []any) {
		for _, g := range th["url_group"].([]map[string]any) {
			tm = append(tm, g["traffic_manager_urls"].([]any)...)
			auth = append(auth, g["traffic_manager_auth_urls"].([]any)...)
			assert.Equal(t, "loadbalance", g["type"], "every event to every traffic manager")
		}
		return tm, auth
	}
	for i, toml := range tomls {
		th := table(t, decoded(t, toml), "apim", "throttling")
		var others []any
		for j, n := range nodes {
			if j != i {
				others = append(others, "tcp://"+n+":5672")
			}
		}
		assert.Equal(t, others, th["event_duplicate_url"], "node %d forwards to the others only", i)
		assert.Equal(t, []any{"tcp://localhost:5672"}, th["throttle_decision_endpoints"], "node %d decides from its own broker", i)
		tm, auth := groups(th)
		assert.Equal(t, []any{"tcp://" + nodes[0] + ":9611", "tcp://" + nodes[1] + ":9611", "tcp://" + nodes[2] + ":9611"}, tm)
		assert.Equal(t, []any{"ssl://" + nodes[0] + ":9711", "ssl://" + nodes[1] + ":9711", "ssl://" + nodes[2] + ":9711"}, auth)
	}
	assert.NotEqual(t, tomls[0], tomls[1])

	gw := apim.GatewayArgs{Shared: shared(), ControlPlaneReplicas: 3}.WithDefaults()
	m := decoded(t, apim.RenderGatewayTOML(gw))
	var brokers []any
	for _, n := range nodes {
		brokers = append(brokers, "tcp://"+n+":5672")
	}
	assert.Equal(t, brokers, table(t, m, "apim", "event_hub")["event_listening_endpoints"])
	th := table(t, m, "apim", "throttling")
	assert.Equal(t, brokers, th["throttle_decision_endpoints"])
	tm, _ := groups(th)
	assert.Len(t, tm, 3, "a url_group per node")
	assert.Equal(t, "https://apim-cp:9443/services/", table(t, m, "apim", "key_manager")["service_url"], "the key manager through the Service: any node")
}

func TestAnalyticsBlock(t *testing.T) {
	g := gateway()
	g.Analytics = apim.Analytics{Type: apim.AnalyticsMoesif, MoesifKey: kube.SecretRef{Name: "a", Key: "moesif"}}
	m := decoded(t, apim.RenderGatewayTOML(g))
	a := table(t, m, "apim", "analytics")
	assert.Equal(t, true, a["enable"])
	assert.Equal(t, "moesif", a["type"])
	assert.Equal(t, "$env{WSO2_MOESIF_KEY}", table(t, a, "properties")["moesifKey"])
}

// A name with a quote is escaped, not spliced: the file stays valid TOML with the same value.
func TestValuesAreTOMLEscaped(t *testing.T) {
	cp := controlPlane()
	cp.AdminUsername = `ad"min\x`
	m := decoded(t, apim.RenderControlPlaneTOML(cp, 0))
	assert.Equal(t, `ad"min\x`, table(t, m, "super_admin")["username"])
}

// Every rendered file against what WSO2 4.7.0 reads (tests/fidelity): no key it ignores, no
// value that breaks its XML, nothing required missing. The broken render proves the check
// can fail.
func TestRenderedTOMLPassesWSO2sRules(t *testing.T) {
	aio, err := fidelity.Load("4.7.0", fidelity.AllInOne)
	require.NoError(t, err)
	gw, err := fidelity.Load("4.7.0", fidelity.UniversalGW)
	require.NoError(t, err)
	for _, analytics := range []apim.AnalyticsType{apim.AnalyticsOff, apim.AnalyticsELK, apim.AnalyticsMoesif} {
		cp, g := controlPlane(), gateway()
		g.Analytics.Type = analytics
		assert.Empty(t, aio.CheckTOML(apim.RenderControlPlaneTOML(cp, 0)), "control plane, analytics %q", analytics)
		assert.Empty(t, gw.CheckTOML(apim.RenderGatewayTOML(g)), "gateway, analytics %q", analytics)
	}

	broken := strings.Replace(apim.RenderGatewayTOML(gateway()), "&amp;", "&", 1) + "\n[apim.not_a_key]\nvalue = 1\n"
	kinds := map[string]bool{}
	for _, f := range gw.CheckTOML(broken) {
		kinds[f.Kind] = true
	}
	assert.True(t, kinds["xml-escape"], "a bare & in a JDBC URL must be caught")
	assert.True(t, kinds["unread"], "a key WSO2 never reads must be caught")
}

func TestServerHome(t *testing.T) {
	cases := map[string]struct{ image, product, want string }{
		"tag":             {"wso2/wso2am:4.7.0", "wso2am", "/home/wso2carbon/wso2am-4.7.0"},
		"OS variant":      {"wso2/wso2am:4.7.0-alpine", "wso2am", "/home/wso2carbon/wso2am-4.7.0"},
		"rocky gateway":   {"wso2/wso2am-universal-gw:4.7.0-rocky", "wso2am-universal-gw", "/home/wso2carbon/wso2am-universal-gw-4.7.0"},
		"mirror":          {"registry.example:5000/wso2/wso2am:4.6.0", "wso2am", "/home/wso2carbon/wso2am-4.6.0"},
		"own image":       {"mycorp/apim-custom:4.7.0.2", "wso2am", "/home/wso2carbon/wso2am-4.7.0.2"},
		"digest":          {"wso2/wso2am@sha256:" + strings.Repeat("a", 64), "wso2am", ""},
		"no version":      {"wso2/wso2am:latest", "wso2am", ""},
		"no tag":          {"wso2/wso2am", "wso2am", ""},
		"tag and digest":  {"wso2/wso2am:4.7.0@sha256:" + strings.Repeat("b", 64), "wso2am", ""},
		"numbers in name": {"reg:5000/wso2am-universal-gw:4.7.1", "wso2am-universal-gw", "/home/wso2carbon/wso2am-universal-gw-4.7.1"},
	}
	for name, c := range cases {
		assert.Equal(t, c.want, apim.ServerHomeFor(c.image, c.product), name)
	}
	w := apim.ControlPlaneArgs{Workload: apim.Workload{Image: "wso2/wso2am@sha256:" + strings.Repeat("a", 64)}}.WithDefaults().Workload
	assert.Contains(t, w.Validate("apim"), `apim.serverHome: missing; the product directory cannot be read from image "wso2/wso2am@sha256:`+strings.Repeat("a", 64)+`" (pinned by digest, or a tag without a version): set apim.serverHome to the directory inside the image, e.g. /home/wso2carbon/wso2am-4.7.0`)
	w.ServerHome = "/opt/wso2am"
	assert.Empty(t, w.Validate("apim"))
}

func TestDefaults(t *testing.T) {
	g := apim.GatewayArgs{}.WithDefaults()
	assert.Equal(t, "wso2/wso2am-universal-gw:4.7.0", g.Image)
	assert.Equal(t, "/home/wso2carbon/wso2am-universal-gw-4.7.0", g.ServerHome)
	assert.Equal(t, 1, g.MinReplicas)
	assert.Equal(t, 2, g.MaxReplicas)
	assert.Equal(t, 70, g.CPUTargetPercent)
	assert.Equal(t, 300, *g.ScaleDownStabilizationSeconds)
	assert.Equal(t, 30, *g.MinReadySeconds)
	assert.Equal(t, "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar", g.JDBCDriver.URL)
	assert.Equal(t, "admin", g.AdminUsername)
}
