package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

var stacksProgram = stacks.Program

const (
	typeCluster   = "gcp:container/cluster:Cluster"
	typeNodePool  = "gcp:container/nodePool:NodePool"
	typeSA        = "gcp:serviceaccount/account:Account"
	typeIAMMember = "gcp:projects/iAMMember:IAMMember"
	typeK8sProv   = "pulumi:providers:kubernetes"
	typeGCPProv   = "pulumi:providers:gcp"
	typeGKE       = "wso2apim:gke:Cluster"
	typeNetwork   = "wso2apim:network:Network"
	typePlatform  = "wso2apim:platform:Platform"
)

func run(t *testing.T, stack string, set map[string]any) *harness.Graph {
	t.Helper()
	g, err := harness.Run(stacks.Program, stack, harness.Options{Set: set})
	require.NoError(t, err)
	return g
}

func one(t *testing.T, g *harness.Graph, typ string) *harness.Resource {
	t.Helper()
	rs := g.OfType(typ)
	require.Len(t, rs, 1, "want exactly one %s", typ)
	return rs[0]
}

func TestDevStackCluster(t *testing.T) {
	g := run(t, "dev", nil)

	cluster := one(t, g, typeCluster)
	assert.Equal(t, true, cluster.Get("removeDefaultNodePool"), "default node pool must be removed")
	assert.Equal(t, "europe-west1-b", cluster.Get("location"), "dev is zonal")
	assert.Equal(t, false, cluster.Get("deletionProtection"))
	assert.False(t, cluster.Protect, "dev cluster is not protected")
	assert.Equal(t, harness.TestGCPProject+".svc.id.goog", cluster.Get("workloadIdentityConfig.workloadPool"))
	assert.Equal(t, true, cluster.Get("enableShieldedNodes"))
	assert.Equal(t, "VPC_NATIVE", cluster.Get("networkingMode"))
	assert.Equal(t, "pods", cluster.Get("ipAllocationPolicy.clusterSecondaryRangeName"))
	assert.Equal(t, "services", cluster.Get("ipAllocationPolicy.servicesSecondaryRangeName"))
	assert.Equal(t, "REGULAR", cluster.Get("releaseChannel.channel"))
	assert.Equal(t, "OPTIMIZE_UTILIZATION", cluster.Get("clusterAutoscaling.autoscalingProfile"))
	assert.Equal(t, "ADVANCED_DATAPATH", cluster.Get("datapathProvider"), "NetworkPolicies need Dataplane V2")
	assert.Nil(t, cluster.Get("privateClusterConfig"))
	assert.Equal(t, "apim-dev", cluster.Get("name"))

	pool := one(t, g, typeNodePool)
	assert.Equal(t, 1.0, pool.Get("autoscaling.minNodeCount"))
	assert.Equal(t, 3.0, pool.Get("autoscaling.maxNodeCount"))
	assert.Nil(t, pool.Get("autoscaling.totalMaxNodeCount"), "per-zone and total limits are exclusive")
	assert.Equal(t, "ANY", pool.Get("autoscaling.locationPolicy"), "spot pools take capacity anywhere")
	assert.Equal(t, true, pool.Get("nodeConfig.spot"))
	assert.Equal(t, "e2-standard-4", pool.Get("nodeConfig.machineType"))
	assert.Equal(t, "GKE_METADATA", pool.Get("nodeConfig.workloadMetadataConfig.mode"))
	assert.Equal(t, "apim-dev-nodes@"+harness.TestGCPProject+".iam.gserviceaccount.com", pool.Get("nodeConfig.serviceAccount"))
	assert.Equal(t, true, pool.Get("management.autoRepair"))
	assert.Equal(t, 1.0, pool.Get("upgradeSettings.maxSurge"))
	assert.Equal(t, 0.0, pool.Get("upgradeSettings.maxUnavailable"))
	assert.Nil(t, pool.Get("name"), "the pool is auto-named so a replacement is created before the old one goes")
	assert.Contains(t, pool.IgnoreChanges, "initialNodeCount", "the autoscaler owns the node count")
	assert.True(t, g.DependsOn(pool, cluster), "node pool is created in the cluster")

	sa := one(t, g, typeSA)
	assert.Equal(t, "apim-dev-nodes", sa.Get("accountId"))
	members := g.OfType(typeIAMMember)
	var roles []string
	for _, m := range members {
		roles = append(roles, m.String("role"))
		assert.Equal(t, "serviceAccount:apim-dev-nodes@"+harness.TestGCPProject+".iam.gserviceaccount.com", m.Get("member"))
		assert.Equal(t, harness.TestGCPProject, m.Get("project"))
	}
	assert.ElementsMatch(t, gke.NodeServiceAccountRoles, roles, "node SA has exactly the least-privilege roles")
	assert.Equal(t, []string{"roles/container.defaultNodeServiceAccount"}, gke.NodeServiceAccountRoles)

	// The Kubernetes provider is the cluster's, identified by the cluster's ID.
	provs := g.OfType(typeK8sProv)
	require.Len(t, provs, 1)
	assert.Equal(t, cluster.ID, provs[0].Get("clusterIdentifier"))
	assert.Contains(t, provs[0].String("kubeconfig"), "gke-gcloud-auth-plugin")
	assert.Contains(t, provs[0].String("kubeconfig"), "server: https://203.0.113.10")
	assert.True(t, provs[0].IsSecret("kubeconfig"), "kubeconfig is a secret")
	assert.Equal(t, true, provs[0].Get("enableConfigMapMutable"), "a replaced ConfigMap would take its Deployments down with it")
	assert.Equal(t, true, provs[0].Get("enableSecretMutable"))
	assert.True(t, g.DependsOn(provs[0], cluster))
}

func TestProdStackCluster(t *testing.T) {
	g := run(t, "prod", nil)

	cluster := one(t, g, typeCluster)
	assert.Equal(t, "europe-west1", cluster.Get("location"), "prod is regional")
	assert.Equal(t, []any{"europe-west1-b", "europe-west1-c", "europe-west1-d"}, cluster.Get("nodeLocations"))
	assert.Equal(t, true, cluster.Get("deletionProtection"))
	assert.True(t, cluster.Protect, "prod cluster is protected in Pulumi too")
	assert.Equal(t, true, cluster.Get("privateClusterConfig.enablePrivateNodes"))
	assert.Equal(t, "172.16.0.0/28", cluster.Get("privateClusterConfig.masterIpv4CidrBlock"))
	assert.Equal(t, true, cluster.Get("privateClusterConfig.enablePrivateEndpoint"), "only the VPC reaches prod's control plane")
	assert.Equal(t, "STABLE", cluster.Get("releaseChannel.channel"))

	pool := one(t, g, typeNodePool)
	assert.Equal(t, false, pool.Get("nodeConfig.spot"))
	assert.Equal(t, "BALANCED", pool.Get("autoscaling.locationPolicy"))
	assert.Equal(t, 1.0, pool.Get("autoscaling.minNodeCount"))
	assert.Equal(t, 4.0, pool.Get("autoscaling.maxNodeCount"))

	// Private nodes pull public images through Cloud NAT.
	assert.Len(t, g.OfType("gcp:compute/routerNat:RouterNat"), 1)
}

func TestLocalStackRegistersNoGCPResource(t *testing.T) {
	g := run(t, "local", nil)
	assert.Empty(t, g.WithPrefix("gcp:"), "mode existing creates nothing in Google Cloud")
	assert.Empty(t, g.OfType(typeGCPProv))
	prov := one(t, g, typeK8sProv)
	assert.Nil(t, prov.Get("kubeconfig"), "ambient kubeconfig by default")
	assert.Equal(t, "existing/local", prov.Get("clusterIdentifier"))
	assert.Equal(t, true, prov.Get("enableConfigMapMutable"))
}

func TestExistingModeUsesConfiguredKubeconfigAndContext(t *testing.T) {
	g := run(t, "local", map[string]any{"cluster.kubeconfig": "/tmp/kc.yaml", "cluster.context": "kind-apim"})
	prov := one(t, g, typeK8sProv)
	assert.Equal(t, "/tmp/kc.yaml", prov.Get("kubeconfig"))
	assert.Equal(t, "kind-apim", prov.Get("context"))
}

func TestTotalNodeLimitsReplacePerZoneLimits(t *testing.T) {
	g := run(t, "prod", map[string]any{
		"nodePool.minNodes": nil, "nodePool.maxNodes": nil,
		"nodePool.totalMinNodes": 3, "nodePool.totalMaxNodes": 12,
	})
	pool := one(t, g, typeNodePool)
	assert.Equal(t, 3.0, pool.Get("autoscaling.totalMinNodeCount"))
	assert.Equal(t, 12.0, pool.Get("autoscaling.totalMaxNodeCount"))
	assert.Nil(t, pool.Get("autoscaling.minNodeCount"))
	assert.Nil(t, pool.Get("autoscaling.maxNodeCount"))
}

// Every GCP resource gets the stack's explicit provider and sits inside a component.
func TestGCPResourcesUseExplicitProviderAndComponents(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			gcpProv := one(t, g, typeGCPProv)
			assert.Equal(t, harness.TestGCPProject, gcpProv.Get("project"), "the stack's gcp:project")
			assert.Equal(t, "europe-west1", gcpProv.Get("region"), "the stack's gcp:region")
			for _, r := range g.WithPrefix("gcp:") {
				assert.Equal(t, gcpProv.URN, r.Provider, "%s %s uses the explicit gcp provider", r.Type, r.Name)
				parent := g.ParentOf(r)
				require.NotNil(t, parent, "%s %s has a parent component", r.Type, r.Name)
				assert.Contains(t, []string{typeGKE, typeNetwork, "wso2apim:nfs:FileServer", "wso2apim:ingress:Ingress", typePlatform, "wso2apim:apis:APIs", typeCloudSQL, "wso2apim:monitoring:Monitoring"}, parent.Type)
			}
			prov := one(t, g, typeK8sProv)
			assert.Equal(t, typeGKE, g.ParentOf(prov).Type)
		})
	}
}

// GKE refuses a private endpoint unless master authorized networks are enabled, and the
// provider sends enabled = false whenever the block is absent: prod (private endpoint, no
// listed network) must send an enabled, empty block; a public endpoint without networks must
// send none.
func TestPrivateEndpointEnablesAuthorizedNetworks(t *testing.T) {
	prod := one(t, run(t, "prod", nil), typeCluster)
	assert.Equal(t, true, prod.Get("privateClusterConfig.enablePrivateEndpoint"))
	assert.Equal(t, map[string]any{"cidrBlocks": []any{}, "gcpPublicCidrsAccessEnabled": false},
		prod.Get("masterAuthorizedNetworksConfig"), "enabled, with only the node subnet admitted")

	runner := one(t, run(t, "prod", map[string]any{"cluster.masterAuthorizedNetworks": []any{
		map[string]any{"name": "ci-runners", "cidr": "10.40.0.0/24"}}}), typeCluster)
	assert.Equal(t, []any{map[string]any{"cidrBlock": "10.40.0.0/24", "displayName": "ci-runners"}},
		runner.Get("masterAuthorizedNetworksConfig.cidrBlocks"))

	dev := one(t, run(t, "dev", nil), typeCluster)
	assert.Nil(t, dev.Get("masterAuthorizedNetworksConfig"), "public endpoint, no networks: an enabled empty fence would lock everyone out")
	office := one(t, run(t, "dev", map[string]any{"cluster.masterAuthorizedNetworks": []any{
		map[string]any{"name": "office", "cidr": "100.64.10.0/24"}}}), typeCluster)
	assert.Equal(t, "100.64.10.0/24", office.Get("masterAuthorizedNetworksConfig.cidrBlocks.0.cidrBlock"))
}

// The default pool is removed at creation, so the Kubernetes provider (and through it every
// Kubernetes object) waits for the managed node pool: on create, workloads start when nodes
// exist; on destroy, the engine deletes them before the pool.
func TestKubernetesProviderWaitsForTheNodePool(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			prov, pool := one(t, g, typeK8sProv), one(t, g, typeNodePool)
			assert.True(t, g.DependsOn(prov, pool), "the provider waits for the node pool")
			for _, r := range g.WithPrefix("kubernetes:") {
				assert.True(t, g.DependsOn(r, pool), "%s %s starts only when there are nodes", r.Type, r.Name)
			}
		})
	}
}

// GKE opens only 443 and 10250 from a private cluster's control-plane range to the nodes, so
// admission webhooks served on other ports time out; prod (private nodes) opens the GKE
// module's webhook ports from the master range to the nodes' account, and dev (public nodes,
// whose control plane reaches them without a peering route) has no such rule.
func TestPrivateClusterAdmitsWebhooksFromTheControlPlane(t *testing.T) {
	g := run(t, "prod", nil)
	fw := g.Find("gcp:compute/firewall:Firewall", "apim-gke-webhooks")
	require.NotNil(t, fw, "prod has private nodes: the webhook rule must exist")
	assert.Equal(t, "INGRESS", fw.Get("direction"))
	assert.Equal(t, []any{"172.16.0.0/28"}, fw.Get("sourceRanges"), "from the control plane's range only")
	assert.Equal(t, []any{"apim-prod-nodes@" + harness.TestGCPProject + ".iam.gserviceaccount.com"}, fw.Get("targetServiceAccounts"),
		"to the nodes, by their service account")
	assert.Equal(t, []any{map[string]any{"protocol": "tcp", "ports": []any{"8443", "9443", "15017"}}}, fw.Get("allows"))
	assert.Contains(t, fw.String("network"), "apim-vpc")
	assert.True(t, g.DependsOn(one(t, g, typeK8sProv), fw), "Kubernetes work starts once webhooks can be reached")
	assert.False(t, g.DependsOn(fw, one(t, g, typeCluster)), "built while the cluster is")

	moved := run(t, "prod", map[string]any{"cluster.masterCidr": "172.16.32.0/28"})
	assert.Equal(t, []any{"172.16.32.0/28"}, moved.Find("gcp:compute/firewall:Firewall", "apim-gke-webhooks").Get("sourceRanges"))

	assert.Nil(t, run(t, "dev", nil).Find("gcp:compute/firewall:Firewall", "apim-gke-webhooks"), "public nodes need no rule")
}

// The node pool sends its kubelet settings explicitly, as GKE applies them: with the block
// absent, the Terraform Google 5.x provider under pulumi-gcp v7 plans to remove the block GKE
// reports back, on every preview after the first `up` (see gke.kubeletConfig).
func TestNodePoolKubeletConfigIsExplicit(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		pool := one(t, run(t, stack, nil), typeNodePool)
		assert.Equal(t, map[string]any{"cpuManagerPolicy": "none", "cpuCfsQuota": true, "cpuCfsQuotaPeriod": "100ms"},
			pool.Get("nodeConfig.kubeletConfig"), stack)
		assert.NotContains(t, pool.IgnoreChanges, "nodeConfig.kubeletConfig", "%s: stated, not ignored", stack)
	}
}
