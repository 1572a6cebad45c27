package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The example runs under mocks: the whole product from a few lines of Go, with every secret
// generated.
func TestExampleComposes(t *testing.T) {
	g, err := harness.RunWithConfig(program, "apim-gke-example", "dev", map[string]any{"gcp:project": "shop-prod-1"},
		harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	cluster := g.Find("gcp:container/cluster:Cluster", "shop-gke")
	require.NotNil(t, cluster)
	assert.Equal(t, "shop-dev", cluster.Get("name"))
	assert.Equal(t, "shop-prod-1", cluster.Get("project"))
	assert.Equal(t, "europe-west4", cluster.Get("location"))
	pool := g.Find("gcp:container/nodePool:NodePool", "shop-gke")
	assert.Equal(t, 12.0, pool.Get("autoscaling.totalMaxNodeCount"))
	hpa := g.Find("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "shop-gw")
	assert.Equal(t, 8.0, hpa.Get("spec.maxReplicas"))
	assert.Len(t, g.OfType("kubernetes:core/v1:Secret"), 2+4+1, "the control plane's and MySQL's Secrets, one per generated value, and the keystores")
	assert.Empty(t, g.OfType("wso2apim:analytics:Analytics"))
}
