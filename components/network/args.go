package network

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures a Network. Zero values are replaced by the defaults in withDefaults.
type Args struct {
	// Project is the Google Cloud project ID. Required.
	Project string `json:"-"`
	// Region is the region of the subnetwork, router and NAT, e.g. "europe-west1". Required.
	Region string `json:"-"`
	// NodeCIDR is the subnetwork's primary range, used by node VMs and internal load balancers.
	// Defaults to 10.10.0.0/20 (4,096 nodes).
	NodeCIDR string `json:"nodeCidr"`
	// PodCIDR is the secondary range GKE assigns pod IPs from. Defaults to 10.16.0.0/14, which
	// allows 1,024 nodes at GKE's default of 110 pods per node.
	PodCIDR string `json:"podCidr"`
	// ServiceCIDR is the secondary range for ClusterIP Services. Defaults to 10.20.0.0/20.
	ServiceCIDR string `json:"serviceCidr"`
	// FlowLogs records VPC flow logs of the subnetwork (5-minute aggregation, half the flows
	// sampled), for audits and incident analysis. Defaults to false.
	FlowLogs bool `json:"flowLogs"`
	// CloudNAT adds a Cloud Router and NAT gateway so nodes without external IPs (private
	// nodes) and VMs such as the NFS server can reach public registries. Defaults to false.
	CloudNAT bool `json:"-"`
}

// Secondary range names are fixed: the cluster refers to them by name, and renaming one would
// replace the subnetwork and with it the cluster.
const (
	PodRangeName     = "pods"
	ServiceRangeName = "services"
)

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.NodeCIDR == "" {
		a.NodeCIDR = "10.10.0.0/20"
	}
	if a.PodCIDR == "" {
		a.PodCIDR = "10.16.0.0/14"
	}
	if a.ServiceCIDR == "" {
		a.ServiceCIDR = "10.20.0.0/20"
	}
	return a
}

// Validate checks defaulted args; key prefixes every message (e.g. "cluster.network").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	ranges := map[string]string{
		validate.Key(key, "nodeCidr"):    a.NodeCIDR,
		validate.Key(key, "podCidr"):     a.PodCIDR,
		validate.Key(key, "serviceCidr"): a.ServiceCIDR,
	}
	for _, k := range kube.SortedKeys(ranges) {
		p.CIDR(k, ranges[k])
	}
	// On the effective ranges, so that a set range that collides with a default is caught.
	p.Disjoint("the node, pod and service ranges must be disjoint", ranges)
	return p
}

// Network is the component's public face: what a cluster, a file server or a firewall needs.
type Network struct {
	pulumi.ResourceState

	// NetworkSelfLink is the VPC's self link.
	NetworkSelfLink pulumi.StringOutput
	// NetworkID is the VPC's ID (projects/<p>/global/networks/<name>), as Filestore wants it.
	NetworkID pulumi.StringOutput
	// NetworkName is the VPC's name, as firewall rules and Filestore want it.
	NetworkName pulumi.StringOutput
	// SubnetworkSelfLink is the subnetwork's self link.
	SubnetworkSelfLink pulumi.StringOutput
	// Region is the subnetwork's region.
	Region string
	// NodeCIDR, PodCIDR and ServiceCIDR are the ranges in use after defaults, known at plan
	// time so that firewalls and export lists can be built from them without waiting.
	NodeCIDR, PodCIDR, ServiceCIDR string
	// NAT is the Cloud NAT (nil without CloudNAT): what needs the internet from a VM without
	// an external IP waits for it.
	NAT pulumi.Resource
}
