package network_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/network"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// run registers an explicit gcp provider and one Network built from args.
func run(t *testing.T, args *network.Args) (*harness.Graph, *network.Network, error) {
	t.Helper()
	return harness.TryConstruct(harness.GCP("my-project-1"), network.NewNetwork, "vpc", args)
}

func TestNetworkAlone(t *testing.T) {
	g, n, err := run(t, &network.Args{Project: "my-project-1", Region: "europe-west1"})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{harness.TypeGCPNetwork + " vpc", harness.TypeGCPSubnetwork + " vpc"}, harness.Children(t, g, "wso2apim:network:Network"),
		"no Cloud NAT unless asked")

	vpc := g.Find(harness.TypeGCPNetwork, "vpc")
	assert.Equal(t, "my-project-1", vpc.Get("project"))
	assert.Equal(t, false, vpc.Get("autoCreateSubnetworks"), "custom mode: auto subnets would overlap the pod ranges")
	assert.Equal(t, "REGIONAL", vpc.Get("routingMode"))

	subnet := g.Find(harness.TypeGCPSubnetwork, "vpc")
	assert.Equal(t, "europe-west1", subnet.Get("region"))
	assert.Equal(t, "my-project-1", subnet.Get("project"))
	assert.Equal(t, "10.10.0.0/20", subnet.Get("ipCidrRange"), "default node range")
	assert.Equal(t, true, subnet.Get("privateIpGoogleAccess"))
	assert.Equal(t, []any{
		map[string]any{"rangeName": "pods", "ipCidrRange": "10.16.0.0/14"},
		map[string]any{"rangeName": "services", "ipCidrRange": "10.20.0.0/20"},
	}, subnet.Get("secondaryIpRanges"), "default pod and service ranges, under the names the cluster refers to")
	assert.Equal(t, "vpc-id", subnet.Get("network"), "the subnetwork is in the VPC")
	assert.True(t, g.DependsOn(subnet, vpc))

	// The ranges in use are known at plan time.
	assert.Equal(t, "europe-west1", n.Region)
	assert.Equal(t, "10.10.0.0/20", n.NodeCIDR)
	assert.Equal(t, "10.16.0.0/14", n.PodCIDR)
	assert.Equal(t, "10.20.0.0/20", n.ServiceCIDR)
}

func TestNetworkWithCloudNAT(t *testing.T) {
	g, _, err := run(t, &network.Args{Project: "my-project-1", Region: "europe-west1", CloudNAT: true,
		NodeCIDR: "10.0.0.0/22", PodCIDR: "10.4.0.0/14", ServiceCIDR: "10.8.0.0/20"})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		harness.TypeGCPNetwork + " vpc", harness.TypeGCPSubnetwork + " vpc", harness.TypeGCPRouter + " vpc", harness.TypeGCPRouterNat + " vpc",
	}, harness.Children(t, g, "wso2apim:network:Network"))

	subnet := g.Find(harness.TypeGCPSubnetwork, "vpc")
	assert.Equal(t, "10.0.0.0/22", subnet.Get("ipCidrRange"))
	assert.Equal(t, "10.4.0.0/14", subnet.Get("secondaryIpRanges.0.ipCidrRange"))
	assert.Equal(t, "10.8.0.0/20", subnet.Get("secondaryIpRanges.1.ipCidrRange"))

	router := g.Find(harness.TypeGCPRouter, "vpc")
	assert.Equal(t, "europe-west1", router.Get("region"))
	assert.Equal(t, "vpc-id", router.Get("network"))
	nat := g.Find(harness.TypeGCPRouterNat, "vpc")
	assert.Equal(t, "europe-west1", nat.Get("region"))
	assert.Equal(t, "AUTO_ONLY", nat.Get("natIpAllocateOption"))
	assert.Equal(t, "ALL_SUBNETWORKS_ALL_IP_RANGES", nat.Get("sourceSubnetworkIpRangesToNat"))
	assert.True(t, g.DependsOn(nat, router), "the NAT is on the router")
}

func TestNetworkRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*network.Args]{
		{"nil args", nil, `network "vpc": args are required`},
		{"missing project and region", &network.Args{},
			`network "vpc": Project: missing; the Google Cloud project ID; Region: missing; a region such as europe-west1`},
		{"every problem at once", &network.Args{Region: "europe-west1", NodeCIDR: "10.10.0.1/20", PodCIDR: "10.10.0.0/16"},
			`network "vpc": nodeCidr: "10.10.0.1/20" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20; ` +
				`nodeCidr: 10.10.0.1/20 overlaps podCidr (10.10.0.0/16); the node, pod and service ranges must be disjoint; ` +
				`Project: missing; the Google Cloud project ID`},
	}
	harness.ExpectRefusals(t, network.NewNetwork, "vpc", cases)
}

func TestWithDefaults(t *testing.T) {
	a := network.Args{}.WithDefaults()
	assert.Equal(t, "10.10.0.0/20", a.NodeCIDR)
	assert.Equal(t, "10.16.0.0/14", a.PodCIDR)
	assert.Equal(t, "10.20.0.0/20", a.ServiceCIDR)
	assert.False(t, a.CloudNAT)

	set := network.Args{NodeCIDR: "192.168.0.0/24", PodCIDR: "172.16.0.0/14", ServiceCIDR: "172.20.0.0/20"}.WithDefaults()
	assert.Equal(t, "192.168.0.0/24", set.NodeCIDR, "set values stay")
	assert.Equal(t, "172.16.0.0/14", set.PodCIDR)
	assert.Equal(t, "172.20.0.0/20", set.ServiceCIDR)
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		args network.Args
		want []string // nil: valid
	}{
		{"defaults", network.Args{}, nil},
		{"own disjoint ranges", network.Args{NodeCIDR: "192.168.0.0/24", PodCIDR: "172.16.0.0/14", ServiceCIDR: "172.20.0.0/20"}, nil},
		{"nodeCidr not a network", network.Args{NodeCIDR: "10.10.0.0"},
			[]string{`cluster.network.nodeCidr: "10.10.0.0" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},
		{"podCidr with host bits", network.Args{PodCIDR: "10.16.0.1/14"},
			[]string{`cluster.network.podCidr: "10.16.0.1/14" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},
		{"serviceCidr IPv6", network.Args{ServiceCIDR: "fd00::/108"},
			[]string{`cluster.network.serviceCidr: "fd00::/108" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},
		{"a set range colliding with a default", network.Args{ServiceCIDR: "10.16.0.0/20"},
			[]string{"cluster.network.podCidr: 10.16.0.0/14 overlaps cluster.network.serviceCidr (10.16.0.0/20); the node, pod and service ranges must be disjoint"}},
		{"node and pod overlap", network.Args{NodeCIDR: "10.16.0.0/20"},
			[]string{"cluster.network.nodeCidr: 10.16.0.0/20 overlaps cluster.network.podCidr (10.16.0.0/14); the node, pod and service ranges must be disjoint"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.args.WithDefaults().Validate("cluster.network")
			if c.want == nil {
				assert.Empty(t, p)
				return
			}
			for _, w := range c.want {
				assert.Contains(t, p, w)
			}
			assert.Len(t, p, len(c.want), "no other problem: %v", p)
		})
	}
	assert.Contains(t, network.Args{NodeCIDR: "x"}.WithDefaults().Validate(""),
		`nodeCidr: "x" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`, "an empty prefix leaves the bare key")
}
