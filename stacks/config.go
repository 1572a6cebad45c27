package stacks

// Config is the whole stack's configuration, read from the project's config namespace. Each
// field is one top-level key holding a YAML object (e.g. `wso2-apim:nodePool`). Defaults are
// applied by applyDefaults and nowhere else; Pulumi.yaml documents the keys but holds no
// default values.
type Config struct {
	// Cluster chooses and configures the Kubernetes cluster.
	Cluster ClusterConfig `json:"cluster"`
	// NodePool configures the GKE node pool (mode gke only).
	NodePool NodePoolConfig `json:"nodePool"`
}

// Cluster modes.
const (
	// ModeGKE creates a VPC, a GKE cluster and its node pool.
	ModeGKE = "gke"
	// ModeExisting deploys into a cluster that already exists, reached by kubeconfig; no
	// Google Cloud resource is created.
	ModeExisting = "existing"
)

// ClusterConfig is the `cluster` key.
type ClusterConfig struct {
	// Mode is "gke" or "existing". Defaults to "gke".
	Mode string `json:"mode"`

	// Project is the Google Cloud project ID. Required in mode gke.
	Project string `json:"project"`
	// Region holds the network and, unless Zone is set, a regional cluster. Required in
	// mode gke.
	Region string `json:"region"`
	// Zone, when set, makes the cluster zonal in that zone of Region (cheaper, no control
	// plane redundancy). Empty means regional.
	Zone string `json:"zone"`
	// NodeZones are the zones the node pool spans. Defaults to GKE's choice.
	NodeZones []string `json:"nodeZones"`
	// Name is the GKE cluster's name. Defaults to "apim-<stack>".
	Name string `json:"name"`
	// ReleaseChannel is RAPID, REGULAR, STABLE or EXTENDED. Defaults to REGULAR.
	ReleaseChannel string `json:"releaseChannel"`
	// AutoscalingProfile is BALANCED or OPTIMIZE_UTILIZATION. Defaults to BALANCED.
	AutoscalingProfile string `json:"autoscalingProfile"`
	// PrivateNodes gives nodes internal IPs only and adds Cloud NAT. Defaults to false.
	PrivateNodes bool `json:"privateNodes"`
	// MasterCIDR is the control plane's /28 for private nodes. Defaults to 172.16.0.0/28.
	MasterCIDR string `json:"masterCidr"`
	// MasterAuthorizedNetworks restrict who reaches the control plane. Empty means anyone
	// with credentials.
	MasterAuthorizedNetworks []AuthorizedNetworkConfig `json:"masterAuthorizedNetworks"`
	// DeletionProtection guards the cluster in GKE and in Pulumi. Defaults to true.
	DeletionProtection *bool `json:"deletionProtection"`
	// Labels are put on the cluster and its nodes' VMs.
	Labels map[string]string `json:"labels"`
	// Network holds the VPC's address ranges.
	Network NetworkConfig `json:"network"`

	// Kubeconfig is a kubeconfig file's path or contents (mode existing). Defaults to the
	// ambient kubeconfig ($KUBECONFIG or ~/.kube/config).
	Kubeconfig string `json:"kubeconfig"`
	// Context is the kubeconfig context to use (mode existing). Defaults to its current one.
	Context string `json:"context"`
}

// AuthorizedNetworkConfig is one entry of cluster.masterAuthorizedNetworks.
type AuthorizedNetworkConfig struct {
	Name string `json:"name"`
	CIDR string `json:"cidr"`
}

// NetworkConfig is `cluster.network`.
type NetworkConfig struct {
	// NodeCIDR is the subnetwork's primary range. Defaults to 10.10.0.0/20.
	NodeCIDR string `json:"nodeCidr"`
	// PodCIDR is the pods' secondary range. Defaults to 10.16.0.0/14.
	PodCIDR string `json:"podCidr"`
	// ServiceCIDR is the Services' secondary range. Defaults to 10.20.0.0/20.
	ServiceCIDR string `json:"serviceCidr"`
}

// NodePoolConfig is the `nodePool` key.
type NodePoolConfig struct {
	// MachineType of each node. Defaults to e2-standard-4.
	MachineType string `json:"machineType"`
	// DiskSizeGB is each node's boot disk in GB, 10..65536. Defaults to 100.
	DiskSizeGB int `json:"diskSizeGb"`
	// DiskType is pd-standard, pd-balanced or pd-ssd. Defaults to pd-balanced.
	DiskType string `json:"diskType"`
	// Spot uses Spot VMs. Defaults to false.
	Spot bool `json:"spot"`
	// MinNodes and MaxNodes are per-zone autoscaler limits. Default to 1 and 3 when no
	// limit at all is given.
	MinNodes *int `json:"minNodes"`
	MaxNodes *int `json:"maxNodes"`
	// TotalMinNodes and TotalMaxNodes are limits over all zones; exclusive with the per-zone
	// pair.
	TotalMinNodes *int `json:"totalMinNodes"`
	TotalMaxNodes *int `json:"totalMaxNodes"`
	// LocationPolicy is BALANCED or ANY. Defaults to ANY for Spot, BALANCED otherwise.
	LocationPolicy string `json:"locationPolicy"`
	// AutoRepair and AutoUpgrade default to true.
	AutoRepair  *bool `json:"autoRepair"`
	AutoUpgrade *bool `json:"autoUpgrade"`
	// MaxSurge and MaxUnavailable bound node upgrades. Default to 1 and 0.
	MaxSurge       *int `json:"maxSurge"`
	MaxUnavailable *int `json:"maxUnavailable"`
	// Labels are Kubernetes labels on every node.
	Labels map[string]string `json:"labels"`
}
