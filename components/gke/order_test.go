package gke_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Every grant the cluster relies on waits for IAM to propagate once created, and the cluster
// waits for every grant; nothing else carries the wait.
func TestGrantsWaitForPropagationBeforeTheCluster(t *testing.T) {
	g, _ := runCluster(t, minimalCluster())
	cluster := g.Find(harness.TypeGKECluster, "solo")
	grants := append(g.OfType(harness.TypeGCPIAMMember), g.OfType("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")...)
	require.Len(t, grants, 2, "the nodes' role and GKE's use of the key")
	for _, b := range grants {
		assert.Equal(t, []string{"solo-propagation"}, b.AfterCreate, "%s waits once created", b.Name)
		assert.True(t, g.DependsOn(cluster, b), "the cluster waits for %s", b.Name)
	}
	for _, r := range g.All() {
		if r.Type != harness.TypeGCPIAMMember && r.Type != "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember" {
			assert.Empty(t, r.AfterCreate, "%s %s must not wait", r.Type, r.Name)
		}
	}

	none := minimalCluster()
	none.PropagationWaitSeconds = intp(0)
	g, _ = runCluster(t, none)
	for _, r := range g.All() {
		assert.Empty(t, r.AfterCreate, "propagationWaitSeconds 0: %s %s does not wait", r.Type, r.Name)
	}
}

// The Kubernetes provider is configured only once the node pool exists: on create, workloads
// start when there are nodes to run them; on destroy, they go before the pool.
func TestKubernetesProviderWaitsForTheNodePool(t *testing.T) {
	g, _ := runCluster(t, minimalCluster())
	k8s := g.Find(harness.TypeKubernetesProvider, "solo")
	pool := g.Find(harness.TypeGKENodePool, "solo")
	require.NotNil(t, k8s)
	assert.True(t, g.DependsOn(k8s, pool), "the provider waits for the node pool")
	assert.False(t, g.DependsOn(pool, k8s))
}
