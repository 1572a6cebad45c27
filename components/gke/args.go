package gke

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterArgs configures a Cluster. Zero values are replaced by the defaults in withDefaults.
type ClusterArgs struct {
	// Project is the Google Cloud project ID. Required.
	Project string
	// Name is the GKE cluster name (1-40 characters, lower case, digits and '-'). Required:
	// it is the cluster's identity, so it is never auto-named.
	Name string
	// Location is a region (regional cluster, control plane replicated across zones) or a
	// zone (zonal cluster). Required.
	Location string
	// NodeLocations are the zones the node pool spans. Defaults to GKE's choice: three zones
	// of a region, or the single zone of a zonal cluster.
	NodeLocations []string
	// NetworkSelfLink and SubnetworkSelfLink place the cluster; the subnetwork must carry
	// the secondary ranges named PodRangeName and ServiceRangeName. Required.
	NetworkSelfLink, SubnetworkSelfLink pulumi.StringInput
	// PodRangeName and ServiceRangeName name the subnetwork's secondary ranges (VPC-native).
	// Default to "pods" and "services".
	PodRangeName, ServiceRangeName string
	// ReleaseChannel is RAPID, REGULAR, STABLE or EXTENDED. Defaults to REGULAR.
	ReleaseChannel string
	// AutoscalingProfile is the cluster autoscaler's profile: BALANCED or
	// OPTIMIZE_UTILIZATION (removes nodes sooner). Defaults to BALANCED.
	AutoscalingProfile string
	// PrivateNodes gives nodes internal IPs only. The nodes then need Cloud NAT to reach
	// public registries. Defaults to false.
	PrivateNodes bool
	// MasterIPv4CIDR is the /28 used by the control plane's private endpoint when
	// PrivateNodes is set. Defaults to 172.16.0.0/28.
	MasterIPv4CIDR string
	// MasterAuthorizedNetworks, when non-empty, are the only CIDRs that may reach the
	// control plane's public endpoint.
	MasterAuthorizedNetworks []AuthorizedNetwork
	// DeletionProtection sets GKE's own guard and Pulumi's protect flag on the cluster, so
	// neither a console click nor a `pulumi destroy` can remove it. Defaults to true; it must
	// be set false and applied before the cluster can be deleted.
	DeletionProtection *bool
	// ResourceLabels are put on the cluster and its nodes' VMs.
	ResourceLabels map[string]string
	// NodePool configures the single autoscaled node pool.
	NodePool NodePoolArgs
}

// AuthorizedNetwork is one CIDR allowed to reach the control plane.
type AuthorizedNetwork struct {
	// Name is a display name, e.g. "office".
	Name string
	// CIDR is the allowed range, e.g. "203.0.113.0/24".
	CIDR string
}

// NodePoolArgs configures the cluster-autoscaled node pool.
type NodePoolArgs struct {
	// MachineType of each node. Defaults to e2-standard-4: one API Manager pod requests 2 CPU
	// and 2 GiB, so smaller machines leave the autoscaler unable to place it.
	MachineType string
	// DiskSizeGB is the boot disk size in GB. Defaults to 100.
	DiskSizeGB int
	// DiskType is pd-standard, pd-balanced or pd-ssd. Defaults to pd-balanced.
	DiskType string
	// Spot runs the pool on Spot VMs: cheap, but nodes may be reclaimed at any time.
	Spot bool
	// MinNodes/MaxNodes are per-zone autoscaler limits; TotalMinNodes/TotalMaxNodes are
	// limits over all zones. Use one pair, never both (GKE rejects it). When neither pair is
	// set the defaults are MinNodes 1 and MaxNodes 3.
	MinNodes, MaxNodes           *int
	TotalMinNodes, TotalMaxNodes *int
	// LocationPolicy is BALANCED (spread nodes evenly across zones) or ANY (take capacity
	// wherever it is, best for Spot). Defaults to ANY for Spot pools, BALANCED otherwise.
	LocationPolicy string
	// AutoRepair and AutoUpgrade default to true.
	AutoRepair, AutoUpgrade *bool
	// MaxSurge and MaxUnavailable bound node upgrades. Default to 1 and 0: a new node is
	// added before an old one is drained, so capacity never drops during an upgrade.
	MaxSurge, MaxUnavailable *int
	// Labels are Kubernetes labels put on every node.
	Labels map[string]string
}

func intPtr(v int) *int    { return &v }
func boolPtr(v bool) *bool { return &v }

func (a ClusterArgs) withDefaults() ClusterArgs {
	if a.PodRangeName == "" {
		a.PodRangeName = "pods"
	}
	if a.ServiceRangeName == "" {
		a.ServiceRangeName = "services"
	}
	if a.ReleaseChannel == "" {
		a.ReleaseChannel = "REGULAR"
	}
	if a.AutoscalingProfile == "" {
		a.AutoscalingProfile = "BALANCED"
	}
	if a.PrivateNodes && a.MasterIPv4CIDR == "" {
		a.MasterIPv4CIDR = "172.16.0.0/28"
	}
	if a.DeletionProtection == nil {
		a.DeletionProtection = boolPtr(true)
	}
	a.NodePool = a.NodePool.withDefaults()
	return a
}

func (p NodePoolArgs) withDefaults() NodePoolArgs {
	if p.MachineType == "" {
		p.MachineType = "e2-standard-4"
	}
	if p.DiskSizeGB == 0 {
		p.DiskSizeGB = 100
	}
	if p.DiskType == "" {
		p.DiskType = "pd-balanced"
	}
	if p.MinNodes == nil && p.MaxNodes == nil && p.TotalMinNodes == nil && p.TotalMaxNodes == nil {
		p.MinNodes, p.MaxNodes = intPtr(1), intPtr(3)
	}
	if p.LocationPolicy == "" {
		p.LocationPolicy = "BALANCED"
		if p.Spot {
			p.LocationPolicy = "ANY"
		}
	}
	if p.AutoRepair == nil {
		p.AutoRepair = boolPtr(true)
	}
	if p.AutoUpgrade == nil {
		p.AutoUpgrade = boolPtr(true)
	}
	if p.MaxSurge == nil {
		p.MaxSurge = intPtr(1)
	}
	if p.MaxUnavailable == nil {
		p.MaxUnavailable = intPtr(0)
	}
	return p
}

// NodeServiceAccountRoles are the only project roles the node service account gets: what
// GKE documents as the minimum for nodes to run, log and report metrics. Nothing here lets a
// node read other workloads' data or change the project.
var NodeServiceAccountRoles = []string{"roles/container.defaultNodeServiceAccount"}

// Cluster is the component's public face.
type Cluster struct {
	pulumi.ResourceState

	// Provider deploys into the new cluster; pass it to every Kubernetes resource.
	Provider *kubernetes.Provider
	// ClusterName is the GKE cluster's name.
	ClusterName pulumi.StringOutput
	// Endpoint is the control plane's IP address.
	Endpoint pulumi.StringOutput
	// Kubeconfig authenticates with gke-gcloud-auth-plugin; it is a secret because it
	// carries the cluster's CA and endpoint.
	Kubeconfig pulumi.StringOutput
	// NodeServiceAccountEmail is the nodes' identity, e.g. for granting image pull access.
	NodeServiceAccountEmail pulumi.StringOutput
}
