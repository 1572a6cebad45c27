package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func gatewayTOML(t *testing.T, g *harness.Graph) map[string]any {
	t.Helper()
	var m map[string]any
	_, err := toml.Decode(g.Find(typeConfigMap, "apim-gw-conf").String("data[deployment.toml]"), &m)
	require.NoError(t, err)
	return m
}

func analyticsBlock(t *testing.T, g *harness.Graph) map[string]any {
	t.Helper()
	return gatewayTOML(t, g)["apim"].(map[string]any)["analytics"].(map[string]any)
}

func container(t *testing.T, d *harness.Resource, name string) map[string]any {
	t.Helper()
	for _, c := range d.Get("spec.template.spec.containers").([]any) {
		if c.(map[string]any)["name"] == name {
			return c.(map[string]any)
		}
	}
	t.Fatalf("%s has no container %s", d.Name, name)
	return nil
}

func mountOf(t *testing.T, c map[string]any, volume string) string {
	t.Helper()
	for _, m := range c["volumeMounts"].([]any) {
		if m.(map[string]any)["name"] == volume {
			return m.(map[string]any)["mountPath"].(string)
		}
	}
	t.Fatalf("container %s does not mount %s", c["name"], volume)
	return ""
}

func TestOpenSearchAnalytics(t *testing.T) {
	g := run(t, "dev", nil)
	assert.Equal(t, sortedCopy([]string{
		typeSecret + " apim-analytics-credentials", typeConfigMap + " apim-analytics-shipper",
		typeService + " apim-analytics", typeService + " apim-analytics-headless", typeStatefulSet + " apim-analytics",
		typePDB + " apim-analytics", typeNetPol + " apim-analytics",
		typeDeployment + " apim-analytics-dashboards", typeService + " apim-analytics-dashboards", typePDB + " apim-analytics-dashboards",
		typeNetPol + " apim-analytics-dashboards",
	}), children(g, "wso2apim:analytics:Analytics"))
	assert.Equal(t, "opensearch-headless", g.Find(typeService, "apim-analytics-headless").Get("metadata.name"), "Kubernetes names stay short and fixed")

	a := analyticsBlock(t, g)
	assert.Equal(t, true, a["enable"])
	assert.Equal(t, "elk", a["type"])

	// The shipper reads the very file the gateway writes.
	gw := g.Find(typeDeployment, "apim-gw")
	server, shipper := container(t, gw, "wso2am"), container(t, gw, "analytics-shipper")
	assert.Equal(t, "/home/wso2carbon/wso2am-universal-gw-4.7.0/repository/logs", mountOf(t, server, "apim-logs"))
	assert.Equal(t, "/logs", mountOf(t, shipper, "apim-logs"))
	for _, c := range gw.Get("spec.template.spec.initContainers").([]any) {
		assert.NotEqual(t, "log4j-analytics", c.(map[string]any)["name"], "4.7.0's log4j2.properties already writes apim_metrics.log")
	}
	conf := g.Find(typeConfigMap, "apim-analytics-shipper").String("data[fluent-bit.conf]")
	assert.Contains(t, conf, "Path              /logs/apim_metrics.log", "the shipper tails that file through its /logs mount")
	assert.Contains(t, conf, "Index             apim_event_response")
	assert.Contains(t, conf, "Index             apim_event_faulty")
	assert.Contains(t, conf, "HTTP_Passwd       ${OPENSEARCH_PASSWORD}", "the password comes from the environment")
	assert.Equal(t, "opensearch-credentials", fmt.Sprint(shipper["env"].([]any)[0].(map[string]any)["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"]))

	sts := g.Find(typeStatefulSet, "apim-analytics")
	assert.Equal(t, 1.0, sts.Get("spec.replicas"))
	assert.Contains(t, fmt.Sprint(sts.Get("spec.template.spec.containers.0.env")), "single-node")
	assert.Contains(t, fmt.Sprint(sts.Get("spec.template.spec.containers.0.env")), "OPENSEARCH_INITIAL_ADMIN_PASSWORD", "the security plugin is on")

	np := g.Find(typeNetPol, "apim-analytics")
	var from []string
	for _, f := range np.Get("spec.ingress.0.from").([]any) {
		from = append(from, fmt.Sprint(f.(map[string]any)["podSelector"].(map[string]any)["matchLabels"].(map[string]any)["app.kubernetes.io/component"]))
	}
	assert.ElementsMatch(t, []string{"analytics-dashboards", "gateway"}, from, "only the shippers and Dashboards reach OpenSearch")
	assert.Equal(t, 9200.0, np.Get("spec.ingress.0.ports.0.port"))
}

func TestOpenSearchClusterInProd(t *testing.T) {
	g := run(t, "prod", nil)
	sts := g.Find(typeStatefulSet, "apim-analytics")
	assert.Equal(t, 3.0, sts.Get("spec.replicas"))
	env := fmt.Sprint(sts.Get("spec.template.spec.containers.0.env"))
	assert.Contains(t, env, "opensearch-0,opensearch-1,opensearch-2")
	assert.Contains(t, env, "opensearch-headless")
	assert.NotContains(t, env, "single-node")
	assert.Equal(t, true, g.Find(typeService, "apim-analytics-headless").Get("spec.publishNotReadyAddresses"))
	assert.True(t, sts.Protect)
}

func TestMoesifAnalytics(t *testing.T) {
	g := run(t, "dev", map[string]any{"analytics.mode": "moesif"})
	assert.Empty(t, children(g, "wso2apim:analytics:Analytics"), "no pods: Moesif is a SaaS")
	a := analyticsBlock(t, g)
	assert.Equal(t, "moesif", a["type"])
	assert.Equal(t, "$env{WSO2_MOESIF_KEY}", a["properties"].(map[string]any)["moesifKey"])
	gw := g.Find(typeDeployment, "apim-gw")
	assert.Contains(t, fmt.Sprint(gw.Get("spec.template.spec.containers.0.env")), "moesif-key")
	secret := g.Find(typeSecret, "apim-cp-credentials")
	assert.True(t, secret.IsSecret("stringData.moesif-key"))
	assert.Equal(t, harness.TestSecrets["moesifKey"], secret.Get("stringData.moesif-key"))
}

func TestNoAnalytics(t *testing.T) {
	g := run(t, "dev", map[string]any{"analytics.mode": "none"})
	assert.Equal(t, false, analyticsBlock(t, g)["enable"])
	assert.Empty(t, children(g, "wso2apim:analytics:Analytics"))
	assert.Len(t, g.Find(typeDeployment, "apim-gw").Get("spec.template.spec.containers"), 1, "no sidecar")
}

func TestAnalyticsValidation(t *testing.T) {
	cases := map[string]struct {
		set     map[string]any
		secrets map[string]string
		want    string
	}{
		"unknown mode": {map[string]any{"analytics.mode": "elastic"}, nil,
			`analytics.mode: "elastic" is not valid; use one of opensearch, moesif, none`},
		"moesif without key": {map[string]any{"analytics.mode": "moesif"}, without(harness.TestSecrets, "moesifKey"),
			"moesifKey: missing; analytics.mode moesif needs the Moesif application id: `pulumi config set --secret moesifKey <id>`"},
		"two nodes": {map[string]any{"analytics.replicas": 2}, nil,
			"analytics.replicas: 2 is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum"},
		"four nodes": {map[string]any{"analytics.replicas": 4}, nil,
			"analytics.replicas: 4 is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum"},
		"weak password": {nil, with(harness.TestSecrets, "analyticsAdminPassword", "alllowercase-but-long"),
			"analyticsAdminPassword: the value is too weak for OpenSearch; want at least 12 characters with upper and lower case letters, a digit and a symbol"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g, err := harness.Run(stacksProgram, "dev", harness.Options{Set: tc.set, Secrets: tc.secrets})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, g.All())
		})
	}
	// The Moesif key is only needed in moesif mode; the OpenSearch password is generated when
	// unset, and only in opensearch mode.
	_, err := harness.Run(stacksProgram, "dev", harness.Options{Secrets: without(harness.TestSecrets, "moesifKey")})
	assert.NoError(t, err)
	g, err := harness.Run(stacksProgram, "dev", harness.Options{Set: map[string]any{"analytics.mode": "none"},
		Secrets: without(without(harness.TestSecrets, "moesifKey"), "analyticsAdminPassword")})
	require.NoError(t, err)
	for _, r := range g.OfType(typeSecret) {
		assert.False(t, strings.Contains(r.Name, "analyticsAdminPassword"), "no OpenSearch password without OpenSearch: %s", r.Name)
	}
}
