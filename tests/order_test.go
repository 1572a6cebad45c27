package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The apply order on a fresh project, over the resource graph: APIs → IAM → (propagation
// wait) → cluster → node pool → Kubernetes provider → workloads. The engine starts a resource
// only when everything it depends on is done, and destroys dependents before what they depend
// on, so these edges fix both orders: on destroy every Kubernetes object goes before the node
// pool, the pool before the cluster, the cluster before the grants it used. The test also
// holds that no edge points back up the chain, and that what may run beside the cluster (the
// network, the file server, the load balancer's address) does not wait for it.
func TestApplyOrderOnAFreshProject(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			services := g.OfType(typeGCPService)
			require.NotEmpty(t, services)
			grants := append(g.OfType(typeIAMMember), g.OfType("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")...)
			require.NotEmpty(t, grants)
			sa, cluster, pool, prov := one(t, g, typeSA), one(t, g, typeCluster), one(t, g, typeNodePool), one(t, g, typeK8sProv)
			k8s := g.WithPrefix("kubernetes:")
			require.NotEmpty(t, k8s)

			// APIs → IAM: the nodes' account and every grant wait for every API.
			for _, r := range append([]*harness.Resource{sa}, grants...) {
				for _, s := range services {
					assert.True(t, g.DependsOn(r, s), "%s waits for %s", r.Name, s.Name)
				}
			}
			// → propagation wait: an enabled API and a made grant wait, once created,
			// before anything that depends on them starts.
			for _, r := range append(append([]*harness.Resource{}, services...), grants...) {
				assert.NotEmpty(t, r.AfterCreate, "%s %s waits for propagation once created", r.Type, r.Name)
			}
			// → cluster → node pool → Kubernetes provider → workloads.
			for _, b := range grants {
				assert.True(t, g.DependsOn(cluster, b), "the cluster waits for %s", b.Name)
			}
			assert.True(t, g.DependsOn(pool, cluster), "the pool waits for the cluster")
			assert.True(t, g.DependsOn(prov, pool), "the Kubernetes provider waits for the pool")
			for _, r := range k8s {
				assert.Equal(t, prov.URN, r.Provider, "%s %s uses the cluster's provider", r.Type, r.Name)
				assert.True(t, g.DependsOn(r, pool), "%s %s is created after, and destroyed before, the pool", r.Type, r.Name)
			}

			// Nothing points back up the chain: that would be a cycle, or a destroy that
			// removes what a later step still needs.
			chain := []*harness.Resource{cluster, pool}
			chain = append(append(chain, grants...), services...)
			for _, r := range chain {
				assert.False(t, g.DependsOn(r, prov), "%s must not wait for the Kubernetes provider", r.Name)
				for _, k := range k8s {
					if g.DependsOn(r, k) {
						t.Errorf("%s %s waits for %s %s", r.Type, r.Name, k.Type, k.Name)
					}
				}
			}
			assert.False(t, g.DependsOn(cluster, pool))
			for _, s := range services {
				assert.Equal(t, false, s.Get("disableOnDestroy"), "%s stays enabled after a destroy", s.Name)
			}

			// Beside the chain, not in it: the network waits for the APIs only, and the
			// file server's and load balancer's cloud resources for neither the grants nor
			// the cluster.
			besides := 0
			for _, r := range g.WithPrefix("gcp:") {
				p := g.ParentOf(r)
				beside := p != nil && (p.Type == typeNetwork || p.Type == typeNFS) ||
					r.Type == "gcp:compute/globalAddress:GlobalAddress"
				if !beside {
					continue
				}
				besides++
				for _, x := range append([]*harness.Resource{cluster, pool}, grants...) {
					assert.False(t, g.DependsOn(r, x), "%s %s must not wait for %s", r.Type, r.Name, x.Name)
				}
			}
			assert.NotZero(t, besides, "the network and file server build beside the cluster")
		})
	}
}
