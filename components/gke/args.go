package gke

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/propagation"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// ClusterArgs configures a Cluster. Zero values are replaced by the defaults in WithDefaults.
// The JSON names are the settings of a stack's `cluster` config key.
type ClusterArgs struct {
	// Project is the Google Cloud project ID. Required.
	Project string `json:"project"`
	// Name is the GKE cluster name (1-40 characters, lower case, digits and '-'). Required:
	// it is the cluster's identity, so it is never auto-named.
	Name string `json:"name"`
	// Region holds the cluster. Required.
	Region string `json:"region"`
	// Zone, when set, makes the cluster zonal in that zone of Region (cheaper, no control
	// plane redundancy). Empty means a regional cluster.
	Zone string `json:"zone"`
	// NodeZones are the zones the node pool spans. Defaults to GKE's choice: three zones of
	// the region, or the single zone of a zonal cluster.
	NodeZones []string `json:"nodeZones"`
	// ReleaseChannel is RAPID, REGULAR, STABLE or EXTENDED. Defaults to REGULAR.
	ReleaseChannel string `json:"releaseChannel"`
	// AutoscalingProfile is the cluster autoscaler's profile: BALANCED or
	// OPTIMIZE_UTILIZATION (removes nodes sooner). Defaults to BALANCED.
	AutoscalingProfile string `json:"autoscalingProfile"`
	// PrivateNodes gives nodes internal IPs only. The nodes then need Cloud NAT to reach
	// public registries. Defaults to false.
	PrivateNodes bool `json:"privateNodes"`
	// PrivateEndpoint removes the control plane's public endpoint: only the VPC (the node
	// subnet and MasterAuthorizedNetworks inside it), e.g. a self-hosted CI runner there,
	// reaches it. Needs PrivateNodes. Defaults to false.
	PrivateEndpoint bool `json:"privateEndpoint"`
	// MasterCIDR is the /28 used by the control plane's private endpoint when PrivateNodes
	// is set; it must not overlap the node, pod or service ranges. Defaults to 172.16.0.0/28.
	MasterCIDR string `json:"masterCidr"`
	// MasterAuthorizedNetworks, when non-empty, are the only CIDRs that may reach the
	// control plane. Documentation ranges (RFC 5737) are refused: they reach nothing. With
	// PrivateEndpoint they must be private (RFC 1918) ranges, and authorized networks are
	// enabled even when this is empty: GKE refuses a private endpoint without them, and then
	// only the node subnet reaches the control plane.
	MasterAuthorizedNetworks []AuthorizedNetwork `json:"masterAuthorizedNetworks"`
	// DeletionProtection makes Pulumi (the provider and the engine's protect flag) refuse to
	// delete or replace the cluster. It does not stop a deletion in the console or gcloud.
	// Defaults to true; set it false and apply before a destroy.
	DeletionProtection *bool `json:"deletionProtection"`
	// MaintenanceWindow is when GKE may upgrade and repair automatically. Defaults to
	// weekends, 02:00 to 08:00 UTC.
	MaintenanceWindow MaintenanceWindow `json:"maintenanceWindow"`
	// SecretsEncryption encrypts Kubernetes Secrets (the WSO2 passwords live there) with a
	// Cloud KMS key, in addition to Google's default encryption at rest. Defaults to true.
	SecretsEncryption *bool `json:"secretsEncryption"`
	// KMSKeyName is the key for SecretsEncryption, as
	// projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>. When empty, a key
	// ring and key are created in the cluster's region and GKE's service agent may use it.
	KMSKeyName string `json:"kmsKeyName"`
	// BinaryAuthorization enforces the project's Binary Authorization policy on every pod.
	// Defaults to false.
	BinaryAuthorization bool `json:"binaryAuthorization"`
	// Labels are put on the cluster and its nodes' VMs.
	Labels map[string]string `json:"labels"`
	// PropagationWaitSeconds is how long the first `up` waits after granting a role (the
	// nodes' roles, GKE's use of the KMS key) or enabling an API before the cluster uses it,
	// 0..900. Only a resource's creation waits; previews and later updates do not. Defaults
	// to 120, the propagation time Google documents as typical for IAM.
	PropagationWaitSeconds *int `json:"propagationWaitSeconds"`

	// NetworkSelfLink and SubnetworkSelfLink place the cluster; the subnetwork must carry
	// the secondary ranges named PodRangeName and ServiceRangeName. Required.
	NetworkSelfLink    pulumi.StringInput `json:"-"`
	SubnetworkSelfLink pulumi.StringInput `json:"-"`
	// PodRangeName and ServiceRangeName name the subnetwork's secondary ranges (VPC-native).
	// Default to "pods" and "services".
	PodRangeName     string `json:"-"`
	ServiceRangeName string `json:"-"`
	// NodePool configures the single autoscaled node pool.
	NodePool NodePoolArgs `json:"-"`
}

// MaintenanceWindow is a recurring window, RFC 3339 times and an RFC 5545 recurrence.
type MaintenanceWindow struct {
	// Start and End of the first window, e.g. 2025-01-04T02:00:00Z; the length repeats.
	Start string `json:"start"`
	End   string `json:"end"`
	// Recurrence, e.g. FREQ=WEEKLY;BYDAY=SA,SU.
	Recurrence string `json:"recurrence"`
}

// Location is the cluster's location: its zone when zonal, else its region.
func (a ClusterArgs) Location() string {
	if a.Zone != "" {
		return a.Zone
	}
	return a.Region
}

// AuthorizedNetwork is one CIDR allowed to reach the control plane.
type AuthorizedNetwork struct {
	// Name is a display name, e.g. "office".
	Name string `json:"name"`
	// CIDR is the allowed range, e.g. "198.51.100.0/24".
	CIDR string `json:"cidr"`
}

// NodePoolArgs configures the cluster-autoscaled node pool. The JSON names are the settings of
// a stack's `nodePool` config key.
type NodePoolArgs struct {
	// MachineType of each node. Defaults to e2-standard-4: one API Manager pod requests 2 CPU
	// and 2 GiB, so smaller machines leave the autoscaler unable to place it.
	MachineType string `json:"machineType"`
	// DiskSizeGB is the boot disk size in GB, 10..65536. Defaults to 100.
	DiskSizeGB int `json:"diskSizeGb"`
	// DiskType is pd-standard, pd-balanced or pd-ssd. Defaults to pd-balanced.
	DiskType string `json:"diskType"`
	// Spot runs the pool on Spot VMs: cheap, but nodes may be reclaimed at any time.
	Spot bool `json:"spot"`
	// MinNodes/MaxNodes are per-zone autoscaler limits; TotalMinNodes/TotalMaxNodes are
	// limits over all zones. Use one pair, never both (GKE rejects it). When neither pair is
	// set the defaults are MinNodes 1 and MaxNodes 3.
	MinNodes      *int `json:"minNodes"`
	MaxNodes      *int `json:"maxNodes"`
	TotalMinNodes *int `json:"totalMinNodes"`
	TotalMaxNodes *int `json:"totalMaxNodes"`
	// LocationPolicy is BALANCED (spread nodes evenly across zones) or ANY (take capacity
	// wherever it is, best for Spot). Defaults to ANY for Spot pools, BALANCED otherwise.
	LocationPolicy string `json:"locationPolicy"`
	// AutoRepair and AutoUpgrade default to true; AutoUpgrade cannot be false on a
	// release-channel cluster, which this always is.
	AutoRepair  *bool `json:"autoRepair"`
	AutoUpgrade *bool `json:"autoUpgrade"`
	// MaxSurge and MaxUnavailable bound node upgrades. Default to 1 and 0: a new node is
	// added before an old one is drained, so capacity never drops during an upgrade.
	MaxSurge       *int `json:"maxSurge"`
	MaxUnavailable *int `json:"maxUnavailable"`
	// Labels are Kubernetes labels put on every node.
	Labels map[string]string `json:"labels"`
}

func intPtr(v int) *int    { return &v }
func boolPtr(v bool) *bool { return &v }

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a ClusterArgs) WithDefaults() ClusterArgs {
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
	if a.PrivateNodes && a.MasterCIDR == "" {
		a.MasterCIDR = "172.16.0.0/28"
	}
	if a.DeletionProtection == nil {
		a.DeletionProtection = boolPtr(true)
	}
	if a.MaintenanceWindow == (MaintenanceWindow{}) {
		// GKE wants 48 hours of availability in any 32 days: two 6-hour days a week give 52.
		a.MaintenanceWindow = MaintenanceWindow{Start: "2025-01-04T02:00:00Z", End: "2025-01-04T08:00:00Z", Recurrence: "FREQ=WEEKLY;BYDAY=SA,SU"}
	}
	if a.SecretsEncryption == nil {
		a.SecretsEncryption = boolPtr(true)
	}
	if a.PropagationWaitSeconds == nil {
		a.PropagationWaitSeconds = intPtr(int(propagation.DefaultWait / time.Second))
	}
	a.NodePool = a.NodePool.WithDefaults()
	return a
}

// WithDefaults returns a copy of p with every empty setting replaced by its default.
func (p NodePoolArgs) WithDefaults() NodePoolArgs {
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

// PropagationWait is PropagationWaitSeconds as a duration (0 when unset).
func (a ClusterArgs) PropagationWait() time.Duration {
	if a.PropagationWaitSeconds == nil {
		return 0
	}
	return time.Duration(*a.PropagationWaitSeconds) * time.Second
}

// Zones is how many zones the pool's nodes run in: the node zones given, else one for a zonal
// cluster and three for a regional one (GKE's default).
func (a ClusterArgs) Zones() int {
	switch {
	case len(a.NodeZones) > 0:
		return len(a.NodeZones)
	case a.Zone != "":
		return 1
	}
	return 3
}

// MaxNodes is the most nodes the autoscaler may run across all zones.
func (a ClusterArgs) MaxNodes() int {
	p := a.NodePool
	if p.TotalMaxNodes != nil {
		return *p.TotalMaxNodes
	}
	if p.MaxNodes != nil {
		return *p.MaxNodes * a.Zones()
	}
	return 0
}

// documentationRanges are RFC 5737's TEST-NET ranges: placeholders in examples, never real.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

var (
	kmsKeyRe      = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
	projectIDRe   = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	regionRe      = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	clusterNameRe = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$`)
)

// Validate checks defaulted args; key prefixes every message (e.g. "cluster"). Project,
// Region and Name are checked for form here and for presence by NewCluster, so a caller can
// say in its own words where a missing one comes from.
func (a ClusterArgs) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Matches(k("project"), a.Project, projectIDRe, "a Google Cloud project ID (6-30 lower-case letters, digits or '-')")
	p.Matches(k("region"), a.Region, regionRe, "a region such as europe-west1")
	// Without a region (reported missing by the caller) zones cannot be checked against it.
	if a.Zone != "" && a.Region != "" && !strings.HasPrefix(a.Zone, a.Region+"-") {
		p.Addf(k("zone"), "%q is not valid; want a zone of region %q such as %s-b, or nothing for a regional cluster", a.Zone, a.Region, a.Region)
	}
	for i, z := range a.NodeZones {
		if a.Region != "" && !strings.HasPrefix(z, a.Region+"-") {
			p.Addf(fmt.Sprintf("%s[%d]", k("nodeZones"), i), "%q is not valid; want a zone of region %q", z, a.Region)
		}
	}
	p.Matches(k("name"), a.Name, clusterNameRe, "1-40 lower-case letters, digits or '-', starting with a letter")
	p.OneOf(k("releaseChannel"), a.ReleaseChannel, "RAPID", "REGULAR", "STABLE", "EXTENDED")
	p.OneOf(k("autoscalingProfile"), a.AutoscalingProfile, "BALANCED", "OPTIMIZE_UTILIZATION")
	for i, z := range a.NodeZones {
		if a.Zone != "" && z == a.Zone {
			p.Addf(fmt.Sprintf("%s[%d]", k("nodeZones"), i), "%q is the cluster's own zone; list only the additional zones, GKE always runs nodes in the cluster's zone", z)
		}
	}
	if a.PrivateNodes {
		if pfx, ok := p.CIDR(k("masterCidr"), a.MasterCIDR); ok && pfx.Bits() != 28 {
			p.Addf(k("masterCidr"), "%q is not valid; GKE wants a /28", a.MasterCIDR)
		}
	}
	if a.PrivateEndpoint && !a.PrivateNodes {
		p.Addf(k("privateEndpoint"), "true needs %s true: a private control plane is only offered to private clusters", k("privateNodes"))
	}
	mw := a.MaintenanceWindow
	for name, t := range map[string]string{"start": mw.Start, "end": mw.End} {
		if _, err := time.Parse(time.RFC3339, t); err != nil {
			p.Addf(k("maintenanceWindow."+name), "%q is not valid; want an RFC 3339 time such as 2025-01-04T02:00:00Z", t)
		}
	}
	if start, err1 := time.Parse(time.RFC3339, mw.Start); err1 == nil {
		if end, err2 := time.Parse(time.RFC3339, mw.End); err2 == nil && !end.After(start) {
			p.Addf(k("maintenanceWindow.end"), "%q is not after %s (%q)", mw.End, k("maintenanceWindow.start"), mw.Start)
		}
	}
	if !strings.HasPrefix(mw.Recurrence, "FREQ=") {
		p.Addf(k("maintenanceWindow.recurrence"), "%q is not valid; want an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=SA,SU", mw.Recurrence)
	}
	p.Matches(k("kmsKeyName"), a.KMSKeyName, kmsKeyRe, "projects/<project>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>")
	for i, n := range a.MasterAuthorizedNetworks {
		nk := fmt.Sprintf("%s[%d]", k("masterAuthorizedNetworks"), i)
		if n.Name == "" {
			p.Addf(nk+".name", "missing; give each authorized network a display name")
		}
		if n.CIDR == "" {
			p.Addf(nk+".cidr", "missing; want a CIDR such as 10.0.0.0/24")
		}
		if pfx, ok := p.CIDR(nk+".cidr", n.CIDR); ok {
			documentation := false
			for _, doc := range documentationRanges {
				if doc.Overlaps(pfx) {
					p.Addf(nk+".cidr", "%q is a documentation range (RFC 5737) that no real client uses; set the address range of your operators or CI runner, or use %s with a runner inside the VPC", n.CIDR, k("privateEndpoint"))
					documentation = true
					break
				}
			}
			// A private endpoint admits only internal addresses (GKE: "network ... is not a
			// reserved network, which is required for private endpoints").
			if a.PrivateEndpoint && !documentation && !validate.IsPrivate(pfx) {
				p.Addf(nk+".cidr", "%q is not a private range, and with %s true GKE admits only internal addresses to the control plane; want a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (e.g. a CI runner's subnet), or %s false to fence the public endpoint with it", n.CIDR, k("privateEndpoint"), k("privateEndpoint"))
			}
		}
	}
	if a.PropagationWaitSeconds != nil {
		p.Between(k("propagationWaitSeconds"), *a.PropagationWaitSeconds, 0, 900)
	}
	p.Labels(k("labels"), a.Labels)
	return p
}

// Validate checks defaulted args; key prefixes every message (e.g. "nodePool").
func (p NodePoolArgs) Validate(key string) validate.Problems {
	var v validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	v.Matches(k("machineType"), p.MachineType, validate.MachineTypeRe, "a Compute Engine machine type such as e2-standard-4")
	if p.DiskSizeGB != 0 {
		v.Between(k("diskSizeGb"), p.DiskSizeGB, 10, 65536)
	}
	v.OneOf(k("diskType"), p.DiskType, "pd-standard", "pd-balanced", "pd-ssd")
	v.OneOf(k("locationPolicy"), p.LocationPolicy, "BALANCED", "ANY")
	perZone := p.MinNodes != nil || p.MaxNodes != nil
	total := p.TotalMinNodes != nil || p.TotalMaxNodes != nil
	if perZone && total {
		v.Addf(key, "both per-zone (minNodes/maxNodes) and total (totalMinNodes/totalMaxNodes) limits are set; GKE accepts one pair only")
	}
	limits(&v, k("minNodes"), p.MinNodes, k("maxNodes"), p.MaxNodes)
	limits(&v, k("totalMinNodes"), p.TotalMinNodes, k("totalMaxNodes"), p.TotalMaxNodes)
	v.AtLeast(k("maxSurge"), p.MaxSurge, 0)
	v.AtLeast(k("maxUnavailable"), p.MaxUnavailable, 0)
	if p.MaxSurge != nil && p.MaxUnavailable != nil && *p.MaxSurge == 0 && *p.MaxUnavailable == 0 {
		v.Addf(k("maxSurge"), "0 together with %s 0 would block every node upgrade; set maxSurge to 1 or more", k("maxUnavailable"))
	}
	if p.AutoUpgrade != nil && !*p.AutoUpgrade {
		// This component always puts the cluster on a release channel (REGULAR by default).
		v.Addf(k("autoUpgrade"), "false is not allowed: the cluster is on a release channel, whose nodes GKE keeps upgraded; remove the setting (upgrades happen in the maintenance window)")
	}
	v.KubernetesLabels(k("labels"), p.Labels)
	return v
}

func limits(p *validate.Problems, minKey string, min *int, maxKey string, max *int) {
	switch {
	case min == nil && max == nil:
		return
	case min == nil:
		p.Addf(minKey, "missing; set it together with %s", maxKey)
	case max == nil:
		p.Addf(maxKey, "missing; set it together with %s", minKey)
	}
	p.AtLeast(minKey, min, 0)
	p.AtLeast(maxKey, max, 1)
	if min != nil && max != nil && *min > *max {
		p.Addf(minKey, "%d is greater than %s (%d); want %s <= %s", *min, maxKey, *max, minKey, maxKey)
	}
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
