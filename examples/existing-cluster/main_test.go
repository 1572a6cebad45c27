package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The example runs under mocks: it is not only compiled but proven to compose.
func TestExampleComposes(t *testing.T) {
	g, err := harness.RunWithConfig(program, "apim-existing-cluster", "dev", map[string]any{}, harness.Options{Secrets: map[string]string{
		"adminPassword": "example-admin-pw", "encryptionKey": "0123456789abcdef0123456789abcdef",
		"dbRootPassword": "example-root-pw", "dbPassword": "example-db-pw",
	}})
	require.NoError(t, err)
	hpa := g.Find("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "gw")
	require.NotNil(t, hpa)
	assert.Equal(t, "apis-gw", hpa.Get("spec.scaleTargetRef.name"))
	assert.Equal(t, 10.0, hpa.Get("spec.maxReplicas"))
	conf := g.Find("kubernetes:core/v1:ConfigMap", "gw-conf").String("data[deployment.toml]")
	assert.Contains(t, conf, `event_listening_endpoints = ["tcp://apis-cp-0.apis-cp-nodes:5672"]`)
	assert.Contains(t, conf, "jdbc:mysql://apim-db:3306/shared_db?")
	assert.Empty(t, g.WithPrefix("gcp:"), "an existing cluster needs nothing from Google Cloud")
	dep := g.Find("kubernetes:apps/v1:Deployment", "gw")
	init := dep.Get("spec.template.spec.initContainers.0.env").([]any)
	assert.Contains(t, init, map[string]any{"name": "JDBC_DRIVER_URL",
		"value": "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar"})
	stores := g.OfType("kubernetes:core/v1:Secret")
	var keys *harness.Resource
	for _, s := range stores {
		if s.String("metadata.labels[app.kubernetes.io/component]") == "keystores" {
			keys = s
		}
	}
	require.NotNil(t, keys, "the deployment's own keystores")
	vols := dep.Get("spec.template.spec.volumes").([]any)
	assert.Contains(t, vols, map[string]any{"name": "keystores", "secret": map[string]any{
		"secretName": keys.String("metadata.name"), "defaultMode": 288.0}}, "the gateway mounts them")
}
