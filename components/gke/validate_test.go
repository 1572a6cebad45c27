package gke_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

func minimalCluster() *gke.ClusterArgs {
	return &gke.ClusterArgs{
		Project:            "my-project-1",
		Name:               "solo",
		Region:             "europe-west1",
		NetworkSelfLink:    pulumi.String("net-link"),
		SubnetworkSelfLink: pulumi.String("subnet-link"),
	}
}

// runCluster registers an explicit gcp provider and one Cluster "solo" on it.
func runCluster(t *testing.T, args *gke.ClusterArgs) (*harness.Graph, *gke.Cluster) {
	t.Helper()
	return harness.Construct(t, harness.GCP("my-project-1"), gke.NewCluster, "solo", args)
}

func TestClusterAloneWithExplicitProvider(t *testing.T) {
	g, c := runCluster(t, minimalCluster())
	got := harness.Children(t, g, "wso2apim:gke:Cluster")
	assert.ElementsMatch(t, []string{
		harness.TypeGCPServiceAccount + " solo-nodes", harness.TypeGCPIAMMember + " solo-nodes-container-defaultNodeServiceAccount",
		harness.TypeGKECluster + " solo", harness.TypeGKENodePool + " solo", harness.TypeKubernetesProvider + " solo",
		// Secrets encryption is on by default: a key ring and key, usable by GKE's agent.
		"gcp:projects/serviceIdentity:ServiceIdentity solo-gke-agent", "gcp:kms/keyRing:KeyRing solo-secrets",
		"gcp:kms/cryptoKey:CryptoKey solo-secrets", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember solo-secrets-gke-agent",
	}, got)

	cluster := g.Find(harness.TypeGKECluster, "solo")
	assert.True(t, cluster.Protect, "protected by default")
	assert.Equal(t, true, cluster.Get("deletionProtection"))
	assert.Equal(t, "europe-west1", cluster.Get("location"), "regional unless a zone is given")
	assert.Equal(t, "subnet-link", cluster.Get("subnetwork"))
	assert.Equal(t, map[string]any{"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}, cluster.Get("ipAllocationPolicy"))
	assert.Equal(t, "my-project-1.svc.id.goog", cluster.Get("workloadIdentityConfig.workloadPool"))
	assert.Equal(t, "ADVANCED_DATAPATH", cluster.Get("datapathProvider"))
	assert.Equal(t, true, cluster.Get("removeDefaultNodePool"))
	assert.Nil(t, cluster.Get("privateClusterConfig"), "public nodes by default")
	assert.Nil(t, cluster.Get("masterAuthorizedNetworksConfig"))
	assert.Nil(t, cluster.Get("nodeLocations"), "GKE's choice of zones")

	sa := g.Find(harness.TypeGCPServiceAccount, "solo-nodes")
	assert.Equal(t, "solo-nodes", sa.Get("accountId"))
	member := g.Find(harness.TypeGCPIAMMember, "solo-nodes-container-defaultNodeServiceAccount")
	assert.Equal(t, "roles/container.defaultNodeServiceAccount", member.Get("role"))
	assert.Equal(t, "serviceAccount:solo-nodes@my-project-1.iam.gserviceaccount.com", member.Get("member"))

	pool := g.Find(harness.TypeGKENodePool, "solo")
	assert.False(t, pool.Protect)
	assert.Equal(t, []string{"initialNodeCount"}, pool.IgnoreChanges, "the autoscaler owns the count")
	assert.Nil(t, pool.Get("name"), "auto-named, so a replacement creates before it deletes")
	assert.Equal(t, "solo-nodes@my-project-1.iam.gserviceaccount.com", pool.Get("nodeConfig.serviceAccount"))
	assert.Equal(t, 100.0, pool.Get("nodeConfig.diskSizeGb"))
	assert.Equal(t, "pd-balanced", pool.Get("nodeConfig.diskType"))
	assert.Equal(t, false, pool.Get("nodeConfig.spot"))
	assert.Equal(t, "GKE_METADATA", pool.Get("nodeConfig.workloadMetadataConfig.mode"))
	assert.Equal(t, map[string]any{"autoRepair": true, "autoUpgrade": true}, pool.Get("management"))
	assert.Equal(t, map[string]any{"strategy": "SURGE", "maxSurge": 1.0, "maxUnavailable": 0.0}, pool.Get("upgradeSettings"))
	assert.Equal(t, 1.0, pool.Get("initialNodeCount"))
	assert.True(t, g.DependsOn(pool, cluster))
	assert.True(t, g.DependsOn(pool, sa))

	k8s := g.Find(harness.TypeKubernetesProvider, "solo")
	require.NotNil(t, c.Provider, "the component hands out its Kubernetes provider")
	assert.True(t, k8s.IsSecret("kubeconfig"), "the kubeconfig is a secret")
	assert.Contains(t, k8s.String("kubeconfig"), "server: https://203.0.113.10")
	assert.Contains(t, k8s.String("kubeconfig"), "command: gke-gcloud-auth-plugin")
	assert.Equal(t, "solo-id", k8s.Get("clusterIdentifier"), "stable across CA rotations")
	assert.Equal(t, "true", k8s.String("enableConfigMapMutable"))
	assert.Equal(t, "true", k8s.String("enableSecretMutable"))
	assert.True(t, g.DependsOn(k8s, cluster))
}

func TestClusterArgsAreApplied(t *testing.T) {
	a := minimalCluster()
	a.Zone, a.NodeZones = "europe-west1-b", []string{"europe-west1-c", "europe-west1-d"}
	a.PrivateNodes, a.DeletionProtection = true, boolp(false)
	a.MasterAuthorizedNetworks = []gke.AuthorizedNetwork{{Name: "office", CIDR: "100.64.10.0/24"}}
	a.Labels = map[string]string{"env": "prod"}
	a.NodePool = gke.NodePoolArgs{Spot: true, TotalMinNodes: intp(2), TotalMaxNodes: intp(9), Labels: map[string]string{"pool": "apim"}}
	g, _ := runCluster(t, a)

	cluster := g.Find(harness.TypeGKECluster, "solo")
	assert.False(t, cluster.Protect, "DeletionProtection false lifts both guards")
	assert.Equal(t, false, cluster.Get("deletionProtection"))
	assert.Equal(t, "europe-west1-b", cluster.Get("location"))
	assert.Equal(t, []any{"europe-west1-c", "europe-west1-d"}, cluster.Get("nodeLocations"))
	assert.Equal(t, map[string]any{"enablePrivateNodes": true, "enablePrivateEndpoint": false, "masterIpv4CidrBlock": "172.16.0.0/28"},
		cluster.Get("privateClusterConfig"), "default master range")
	assert.Equal(t, []any{map[string]any{"cidrBlock": "100.64.10.0/24", "displayName": "office"}},
		cluster.Get("masterAuthorizedNetworksConfig.cidrBlocks"))
	assert.Equal(t, map[string]any{"env": "prod"}, cluster.Get("resourceLabels"))

	pool := g.Find(harness.TypeGKENodePool, "solo")
	assert.Equal(t, map[string]any{"locationPolicy": "ANY", "totalMinNodeCount": 2.0, "totalMaxNodeCount": 9.0}, pool.Get("autoscaling"),
		"total limits, and ANY for Spot")
	assert.Equal(t, true, pool.Get("nodeConfig.spot"))
	assert.Equal(t, map[string]any{"pool": "apim"}, pool.Get("nodeConfig.labels"))
	assert.Equal(t, map[string]any{"env": "prod"}, pool.Get("nodeConfig.resourceLabels"))
	assert.Equal(t, []any{"europe-west1-c", "europe-west1-d"}, pool.Get("nodeLocations"))
}

func TestInitialNodeCountFollowsMinNodes(t *testing.T) {
	a := minimalCluster()
	a.NodePool = gke.NodePoolArgs{MinNodes: intp(3), MaxNodes: intp(5)}
	g, _ := runCluster(t, a)
	assert.Equal(t, 3.0, g.Find(harness.TypeGKENodePool, "solo").Get("initialNodeCount"))
}

func TestClusterRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*gke.ClusterArgs]{
		{"nil args", nil, `gke cluster "solo": args are required`},
		{"only a name", &gke.ClusterArgs{Name: "solo"},
			`gke cluster "solo": project: missing; the Google Cloud project ID; region: missing; a region such as europe-west1; ` +
				`NetworkSelfLink: missing; want the network and subnetwork self links (see the network component)`},
		{"no name", func() *gke.ClusterArgs { a := minimalCluster(); a.Name = ""; return a }(),
			`gke cluster "solo": name: missing; the GKE cluster name`},
		{"no subnetwork", func() *gke.ClusterArgs { a := minimalCluster(); a.SubnetworkSelfLink = nil; return a }(),
			`gke cluster "solo": NetworkSelfLink: missing; want the network and subnetwork self links (see the network component)`},
		{"node pool problems under NodePool", func() *gke.ClusterArgs {
			a := minimalCluster()
			a.NodePool.DiskType = "hdd"
			return a
		}(), `gke cluster "solo": NodePool.diskType: "hdd" is not valid; use one of pd-standard, pd-balanced, pd-ssd`},
	}
	harness.ExpectRefusals(t, gke.NewCluster, "solo", cases)
}

func TestClusterValidate(t *testing.T) {
	base := func(f func(a *gke.ClusterArgs)) gke.ClusterArgs {
		a := gke.ClusterArgs{Project: "my-project-1", Name: "apim", Region: "europe-west1"}
		if f != nil {
			f(&a)
		}
		return a
	}
	cases := []harness.Validation[gke.ClusterArgs]{
		{"defaults", base(nil), ""},
		{"project", base(func(a *gke.ClusterArgs) { a.Project = "My_Project" }),
			`cluster.project: "My_Project" is not valid; want a Google Cloud project ID (6-30 lower-case letters, digits or '-')`},
		{"project too short", base(func(a *gke.ClusterArgs) { a.Project = "abcde" }),
			`cluster.project: "abcde" is not valid; want a Google Cloud project ID (6-30 lower-case letters, digits or '-')`},
		{"region", base(func(a *gke.ClusterArgs) { a.Region = "europe-west1-b" }),
			`cluster.region: "europe-west1-b" is not valid; want a region such as europe-west1`},
		{"zone of the region", base(func(a *gke.ClusterArgs) { a.Zone = "europe-west1-d" }), ""},
		{"zone", base(func(a *gke.ClusterArgs) { a.Zone = "us-central1-a" }),
			`cluster.zone: "us-central1-a" is not valid; want a zone of region "europe-west1" such as europe-west1-b, or nothing for a regional cluster`},
		{"node zones of the region", base(func(a *gke.ClusterArgs) { a.NodeZones = []string{"europe-west1-b", "europe-west1-c"} }), ""},
		{"node zones", base(func(a *gke.ClusterArgs) { a.NodeZones = []string{"europe-west1-b", "europe-west4-a"} }),
			`cluster.nodeZones[1]: "europe-west4-a" is not valid; want a zone of region "europe-west1"`},
		{"name", base(func(a *gke.ClusterArgs) { a.Name = "1apim" }),
			`cluster.name: "1apim" is not valid; want 1-40 lower-case letters, digits or '-', starting with a letter`},
		{"name of 41", base(func(a *gke.ClusterArgs) { a.Name = "a" + strings.Repeat("b", 40) }),
			`cluster.name: "a` + strings.Repeat("b", 40) + `" is not valid; want 1-40 lower-case letters, digits or '-', starting with a letter`},
		{"release channel", base(func(a *gke.ClusterArgs) { a.ReleaseChannel = "regular" }),
			`cluster.releaseChannel: "regular" is not valid; use one of RAPID, REGULAR, STABLE, EXTENDED`},
		{"release channel valid", base(func(a *gke.ClusterArgs) { a.ReleaseChannel = "EXTENDED" }), ""},
		{"autoscaling profile", base(func(a *gke.ClusterArgs) { a.AutoscalingProfile = "AGGRESSIVE" }),
			`cluster.autoscalingProfile: "AGGRESSIVE" is not valid; use one of BALANCED, OPTIMIZE_UTILIZATION`},
		{"master CIDR", base(func(a *gke.ClusterArgs) { a.PrivateNodes, a.MasterCIDR = true, "172.16.0.1/28" }),
			`cluster.masterCidr: "172.16.0.1/28" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"master CIDR not a /28", base(func(a *gke.ClusterArgs) { a.PrivateNodes, a.MasterCIDR = true, "172.16.0.0/24" }),
			`cluster.masterCidr: "172.16.0.0/24" is not valid; GKE wants a /28`},
		{"master CIDR unchecked for public nodes", base(func(a *gke.ClusterArgs) { a.MasterCIDR = "nonsense" }), ""},
		{"authorized network valid", base(func(a *gke.ClusterArgs) {
			a.MasterAuthorizedNetworks = []gke.AuthorizedNetwork{{Name: "office", CIDR: "100.64.10.0/24"}}
		}), ""},
		{"authorized network without a name", base(func(a *gke.ClusterArgs) {
			a.MasterAuthorizedNetworks = []gke.AuthorizedNetwork{{CIDR: "100.64.10.0/24"}}
		}), "cluster.masterAuthorizedNetworks[0].name: missing; give each authorized network a display name"},
		{"authorized network without a CIDR", base(func(a *gke.ClusterArgs) {
			a.MasterAuthorizedNetworks = []gke.AuthorizedNetwork{{Name: "office", CIDR: "100.64.10.0/24"}, {Name: "vpn"}}
		}), "cluster.masterAuthorizedNetworks[1].cidr: missing; want a CIDR such as 10.0.0.0/24"},
		{"authorized network with a bad CIDR", base(func(a *gke.ClusterArgs) {
			a.MasterAuthorizedNetworks = []gke.AuthorizedNetwork{{Name: "office", CIDR: "100.64.10.1/24"}}
		}), `cluster.masterAuthorizedNetworks[0].cidr: "100.64.10.1/24" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"labels valid", base(func(a *gke.ClusterArgs) { a.Labels = map[string]string{"env": "prod", "cost-center": "a_1"} }), ""},
		{"label key", base(func(a *gke.ClusterArgs) { a.Labels = map[string]string{"Env": "prod"} }),
			`cluster.labels: "Env" is not valid; want label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters`},
		{"label value", base(func(a *gke.ClusterArgs) { a.Labels = map[string]string{"env": "Prod"} }),
			`cluster.labels.env: "Prod" is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters`},
	}
	harness.ExpectProblems(t, func(args gke.ClusterArgs) []string { return args.WithDefaults().Validate("cluster") }, cases)
}

func TestNodePoolValidate(t *testing.T) {
	cases := []harness.Validation[gke.NodePoolArgs]{
		{"defaults", gke.NodePoolArgs{}, ""},
		{"machine type", gke.NodePoolArgs{MachineType: "e2_standard_4"},
			`nodePool.machineType: "e2_standard_4" is not valid; want a Compute Engine machine type such as e2-standard-4`},
		{"disk size bounds", gke.NodePoolArgs{DiskSizeGB: 10}, ""},
		{"disk size", gke.NodePoolArgs{DiskSizeGB: 9}, "nodePool.diskSizeGb: 9 is not valid; want 10 to 65536"},
		{"disk size too big", gke.NodePoolArgs{DiskSizeGB: 65537}, "nodePool.diskSizeGb: 65537 is not valid; want 10 to 65536"},
		{"disk type", gke.NodePoolArgs{DiskType: "pd-extreme"}, `nodePool.diskType: "pd-extreme" is not valid; use one of pd-standard, pd-balanced, pd-ssd`},
		{"location policy", gke.NodePoolArgs{LocationPolicy: "SPREAD"}, `nodePool.locationPolicy: "SPREAD" is not valid; use one of BALANCED, ANY`},
		{"location policy valid", gke.NodePoolArgs{LocationPolicy: "ANY"}, ""},
		{"both pairs", gke.NodePoolArgs{MinNodes: intp(1), MaxNodes: intp(3), TotalMinNodes: intp(1), TotalMaxNodes: intp(6)},
			"nodePool: both per-zone (minNodes/maxNodes) and total (totalMinNodes/totalMaxNodes) limits are set; GKE accepts one pair only"},
		{"min without max", gke.NodePoolArgs{MinNodes: intp(1)}, "nodePool.maxNodes: missing; set it together with nodePool.minNodes"},
		{"max without min", gke.NodePoolArgs{MaxNodes: intp(3)}, "nodePool.minNodes: missing; set it together with nodePool.maxNodes"},
		{"total min without max", gke.NodePoolArgs{TotalMinNodes: intp(1)},
			"nodePool.totalMaxNodes: missing; set it together with nodePool.totalMinNodes"},
		{"total max without min", gke.NodePoolArgs{TotalMaxNodes: intp(3)},
			"nodePool.totalMinNodes: missing; set it together with nodePool.totalMaxNodes"},
		{"min of 0", gke.NodePoolArgs{MinNodes: intp(0), MaxNodes: intp(1)}, ""},
		{"negative min", gke.NodePoolArgs{MinNodes: intp(-1), MaxNodes: intp(1)}, "nodePool.minNodes: -1 is not valid; want 0 or more"},
		{"max of 0", gke.NodePoolArgs{MinNodes: intp(0), MaxNodes: intp(0)}, "nodePool.maxNodes: 0 is not valid; want 1 or more"},
		{"min above max", gke.NodePoolArgs{MinNodes: intp(4), MaxNodes: intp(3)},
			"nodePool.minNodes: 4 is greater than nodePool.maxNodes (3); want nodePool.minNodes <= nodePool.maxNodes"},
		{"total min above max", gke.NodePoolArgs{TotalMinNodes: intp(7), TotalMaxNodes: intp(6)},
			"nodePool.totalMinNodes: 7 is greater than nodePool.totalMaxNodes (6); want nodePool.totalMinNodes <= nodePool.totalMaxNodes"},
		{"negative total min", gke.NodePoolArgs{TotalMinNodes: intp(-2), TotalMaxNodes: intp(6)},
			"nodePool.totalMinNodes: -2 is not valid; want 0 or more"},
		{"max surge", gke.NodePoolArgs{MaxSurge: intp(-1)}, "nodePool.maxSurge: -1 is not valid; want 0 or more"},
		{"max unavailable", gke.NodePoolArgs{MaxUnavailable: intp(-1)}, "nodePool.maxUnavailable: -1 is not valid; want 0 or more"},
		{"surge 0 with unavailable 1", gke.NodePoolArgs{MaxSurge: intp(0), MaxUnavailable: intp(1)}, ""},
		{"surge 0 with unavailable 0", gke.NodePoolArgs{MaxSurge: intp(0)},
			"nodePool.maxSurge: 0 together with nodePool.maxUnavailable 0 would block every node upgrade; set maxSurge to 1 or more"},
		{"labels valid", gke.NodePoolArgs{Labels: map[string]string{"pool": "apim"}}, ""},
		{"label value", gke.NodePoolArgs{Labels: map[string]string{"pool": "api gateway"}},
			`nodePool.labels.pool: "api gateway" is not valid; want at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`},
		{"label key", gke.NodePoolArgs{Labels: map[string]string{"-pool": "apim"}},
			`nodePool.labels: "-pool" is not a valid label key; want [prefix/]name with a name of at most 63 letters, digits, '-', '_' or '.'`},
		{"label prefix", gke.NodePoolArgs{Labels: map[string]string{"Example.com/pool": "apim"}},
			`nodePool.labels: "Example.com/pool" is not a valid label key; want [prefix/]name with a name of at most 63 letters, digits, '-', '_' or '.'`},
		{"reserved prefix", gke.NodePoolArgs{Labels: map[string]string{"node.kubernetes.io/pool": "apim"}},
			`nodePool.labels: "node.kubernetes.io/pool" uses a prefix reserved for Kubernetes itself`},
	}
	harness.ExpectProblems(t, func(args gke.NodePoolArgs) []string { return args.WithDefaults().Validate("nodePool") }, cases)
}

// NodePoolArgs.Labels are documented as Kubernetes labels (GKE's nodeConfig.labels), but they
// are checked as Google Cloud resource labels.
func TestNodePoolAcceptsKubernetesLabels(t *testing.T) {
	p := gke.NodePoolArgs{Labels: map[string]string{"workload.example.com/tier": "API", "tier": "Gateway"}}.WithDefaults().Validate("nodePool")
	assert.Empty(t, p)
}

func TestWithDefaults(t *testing.T) {
	a := gke.ClusterArgs{}.WithDefaults()
	assert.Equal(t, "pods", a.PodRangeName)
	assert.Equal(t, "services", a.ServiceRangeName)
	assert.Equal(t, "REGULAR", a.ReleaseChannel)
	assert.Equal(t, "BALANCED", a.AutoscalingProfile)
	assert.Equal(t, "", a.MasterCIDR, "only private nodes need a master range")
	assert.True(t, *a.DeletionProtection)
	assert.Equal(t, "172.16.0.0/28", gke.ClusterArgs{PrivateNodes: true}.WithDefaults().MasterCIDR)

	p := a.NodePool
	assert.Equal(t, "e2-standard-4", p.MachineType)
	assert.Equal(t, 100, p.DiskSizeGB)
	assert.Equal(t, "pd-balanced", p.DiskType)
	assert.Equal(t, 1, *p.MinNodes)
	assert.Equal(t, 3, *p.MaxNodes)
	assert.Nil(t, p.TotalMinNodes)
	assert.Equal(t, "BALANCED", p.LocationPolicy)
	assert.True(t, *p.AutoRepair)
	assert.True(t, *p.AutoUpgrade)
	assert.Equal(t, 1, *p.MaxSurge)
	assert.Equal(t, 0, *p.MaxUnavailable)
	assert.Equal(t, "ANY", gke.NodePoolArgs{Spot: true}.WithDefaults().LocationPolicy)

	total := gke.NodePoolArgs{TotalMaxNodes: intp(6)}.WithDefaults()
	assert.Nil(t, total.MinNodes, "no per-zone default when a total limit is set")
	assert.Nil(t, total.MaxNodes)
}

func TestZonesAndMaxNodes(t *testing.T) {
	cases := []struct {
		name      string
		args      gke.ClusterArgs
		zones     int
		maxNodes  int
		locations string
	}{
		{"regional", gke.ClusterArgs{Region: "europe-west1"}, 3, 9, "europe-west1"},
		{"zonal", gke.ClusterArgs{Region: "europe-west1", Zone: "europe-west1-b"}, 1, 3, "europe-west1-b"},
		{"node zones", gke.ClusterArgs{Region: "europe-west1", NodeZones: []string{"europe-west1-b", "europe-west1-c"}}, 2, 6, "europe-west1"},
		{"total limit", gke.ClusterArgs{Region: "europe-west1", NodePool: gke.NodePoolArgs{TotalMinNodes: intp(1), TotalMaxNodes: intp(5)}}, 3, 5, "europe-west1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.args.WithDefaults()
			assert.Equal(t, c.zones, a.Zones())
			assert.Equal(t, c.maxNodes, a.MaxNodes())
			assert.Equal(t, c.locations, a.Location())
		})
	}
	assert.Equal(t, 0, gke.ClusterArgs{}.MaxNodes(), "no limit set, no nodes")
}
