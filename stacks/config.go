package stacks

import (
	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/kube"
)

// Config is the whole stack's configuration, read from the project's config namespace. Each
// field is one top-level key holding a YAML object (e.g. `wso2-apim:nodePool`). Defaults are
// applied by applyDefaults and nowhere else; Pulumi.yaml documents the keys but holds no
// default values.
type Config struct {
	// Cluster chooses and configures the Kubernetes cluster.
	Cluster ClusterConfig `json:"cluster"`
	// NodePool configures the GKE node pool (mode gke only).
	NodePool NodePoolConfig `json:"nodePool"`
	// APIM configures the API Manager control plane.
	APIM APIMConfig `json:"apim"`
	// Gateway configures the autoscaled API gateway.
	Gateway GatewayConfig `json:"gateway"`
	// MySQL configures the database.
	MySQL MySQLConfig `json:"mysql"`
	// Backend configures the sample backend.
	Backend BackendConfig `json:"backend"`
	// NFS configures the shared file storage.
	NFS NFSConfig `json:"nfs"`
	// Ingress publishes the portals and the gateway.
	Ingress IngressConfig `json:"ingress"`
	// Publisher publishes the sample API on first deploy.
	Publisher PublisherConfig `json:"publisher"`
	// Analytics chooses where API analytics go.
	Analytics AnalyticsConfig `json:"analytics"`

	// secrets holds the secret config values by key, checked by LoadConfig. Unexported so
	// that nothing prints or serialises them by accident; use secret() to read one as a
	// Pulumi secret.
	secrets map[string]string
}

// Secret config keys: set each with `pulumi config set --secret <key>`. Plain-text values are
// rejected so that no password reaches Pulumi.<stack>.yaml or state unencrypted.
const (
	SecretAdminPassword     = "apimAdminPassword"
	SecretEncryptionKey     = "apimEncryptionKey"
	SecretMySQLRootPassword = "mysqlRootPassword"
	SecretMySQLPassword     = "mysqlPassword"
)

// Secrets only some configurations need.
const (
	SecretAnalyticsAdminPassword = "analyticsAdminPassword" // analytics.mode opensearch
	SecretMoesifKey              = "moesifKey"              // analytics.mode moesif
	// ingress.tls secret without ingress.tlsSecretName: the PEM certificate chain and key.
	SecretIngressTLSCertificate = "ingressTlsCertificate"
	SecretIngressTLSKey         = "ingressTlsKey"
)

// SecretKeys lists every secret config key the program reads.
func SecretKeys() []string {
	return []string{SecretAdminPassword, SecretEncryptionKey, SecretMySQLRootPassword, SecretMySQLPassword,
		SecretAnalyticsAdminPassword, SecretMoesifKey, SecretIngressTLSCertificate, SecretIngressTLSKey}
}

// requiredSecrets lists the secret keys this configuration needs.
func (c *Config) requiredSecrets() []string {
	keys := []string{SecretAdminPassword, SecretEncryptionKey, SecretMySQLRootPassword, SecretMySQLPassword}
	switch c.Analytics.Mode {
	case analytics.ModeOpenSearch:
		keys = append(keys, SecretAnalyticsAdminPassword)
	case analytics.ModeMoesif:
		keys = append(keys, SecretMoesifKey)
	}
	if c.ingressTLSFromConfig() {
		keys = append(keys, SecretIngressTLSCertificate, SecretIngressTLSKey)
	}
	return keys
}

// APIMConfig is the `apim` key.
type APIMConfig struct {
	// Image of the control plane. Defaults to wso2/wso2am:4.7.0.
	Image string `json:"image"`
	// Domain under which the portals (am.<domain>) and the gateway (gw.<domain>) are
	// published. Defaults to apim.example.com.
	Domain string `json:"domain"`
	// Resources default to requests 2 CPU / 2Gi, limits 3 CPU / 3Gi.
	Resources kube.Resources `json:"resources"`
	// HeapMB is the JVM heap in MiB; at most 75% of the memory limit. Defaults to 2048.
	HeapMB int `json:"heapMb"`
	// MinReadySeconds defaults to 30.
	MinReadySeconds *int `json:"minReadySeconds"`
	// AdminUsername defaults to admin.
	AdminUsername string `json:"adminUsername"`
	// JDBCDriver is where the MySQL Connector/J jar is downloaded from. Required.
	JDBCDriver JDBCDriverConfig `json:"jdbcDriver"`
}

// JDBCDriverConfig is `apim.jdbcDriver`.
type JDBCDriverConfig struct {
	// URL of mysql-connector-j-<version>.jar: Maven Central's or your mirror's. Required.
	URL string `json:"url"`
	// SHA256 of the jar. Required.
	SHA256 string `json:"sha256"`
	// Image that downloads it (needs wget and sha256sum). Defaults to busybox:1.37.
	Image string `json:"image"`
}

// GatewayConfig is the `gateway` key.
type GatewayConfig struct {
	// Image defaults to wso2/wso2am-universal-gw:4.7.0.
	Image string `json:"image"`
	// Resources, HeapMB and MinReadySeconds as for apim.
	Resources       kube.Resources `json:"resources"`
	HeapMB          int            `json:"heapMb"`
	MinReadySeconds *int           `json:"minReadySeconds"`
	// MinReplicas and MaxReplicas bound the autoscaler. Default 1 and 2.
	MinReplicas int `json:"minReplicas"`
	MaxReplicas int `json:"maxReplicas"`
	// CPUTargetPercent is the autoscaler's CPU target, 1..100. Defaults to 70.
	CPUTargetPercent *int `json:"cpuTargetPercent"`
	// ScaleDownStabilizationSeconds defaults to 300.
	ScaleDownStabilizationSeconds int `json:"scaleDownStabilizationSeconds"`
}

// MySQLConfig is the `mysql` key.
type MySQLConfig struct {
	// Image defaults to mysql:8.4.
	Image string `json:"image"`
	// Username of the application user. Defaults to apimadmin.
	Username string `json:"username"`
	// StorageSize defaults to 20Gi.
	StorageSize string `json:"storageSize"`
	// StorageClass defaults to the cluster's default.
	StorageClass string `json:"storageClass"`
	// Resources default to requests 500m/1Gi, limits 2/2Gi.
	Resources kube.Resources `json:"resources"`
	// Protect guards the database against deletion by Pulumi. Defaults to true.
	Protect *bool `json:"protect"`
}

// BackendConfig is the `backend` key.
type BackendConfig struct {
	// Enabled deploys the sample backend. Defaults to true.
	Enabled *bool `json:"enabled"`
	// Image and Args default to http-echo answering "Hello Kubernetes!!!".
	Image string   `json:"image"`
	Args  []string `json:"args"`
	// Replicas defaults to 2.
	Replicas int `json:"replicas"`
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

	// Namespace holds every workload. Defaults to wso2-apim.
	Namespace string `json:"namespace"`
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

// NFSConfig is the `nfs` key.
type NFSConfig struct {
	// Backend is vm, filestore, in-cluster or storage-class. Defaults to vm in cluster mode
	// gke and in-cluster in mode existing.
	Backend string `json:"backend"`
	// Zone of the VM or Filestore instance. Defaults to cluster.zone, else <region>-b.
	Zone string `json:"zone"`
	// MachineType, DiskSizeGB, DiskType of the VM (vm). Default e2-small, 100, pd-balanced.
	MachineType string `json:"machineType"`
	DiskSizeGB  int    `json:"diskSizeGb"`
	DiskType    string `json:"diskType"`
	// Tier and CapacityGB of Filestore (filestore). Default BASIC_HDD and the tier minimum.
	Tier       string `json:"tier"`
	CapacityGB int    `json:"capacityGb"`
	// StorageClass: the ReadWriteMany class (storage-class, required) or the in-cluster
	// server's disk class (in-cluster, default: the cluster's default).
	StorageClass string `json:"storageClass"`
	// Size of the shared volume. Defaults to 10Gi.
	Size string `json:"size"`
	// ServerImage of the in-cluster server.
	ServerImage string `json:"serverImage"`
	// ClientCIDRs may mount the in-cluster server (the nodes' range: kubelets mount).
	// Defaults to the RFC 1918 ranges. In mode gke the node and pod ranges are used.
	ClientCIDRs []string `json:"clientCidrs"`
	// Protect guards the data-holding resources. Defaults to true.
	Protect *bool `json:"protect"`
}

// IngressConfig is the `ingress` key.
type IngressConfig struct {
	// Enabled publishes am.<domain> and gw.<domain>. Defaults to true.
	Enabled *bool `json:"enabled"`
	// ClassName of the Ingress controller (mode existing). Defaults to nginx.
	ClassName string `json:"className"`
	// TLS is managed (Google-managed certificates, mode gke), secret (an existing
	// kubernetes.io/tls Secret named by tlsSecretName) or none. Defaults to managed on GKE,
	// none otherwise.
	TLS string `json:"tls"`
	// TLSSecretName names an existing kubernetes.io/tls Secret (e.g. from cert-manager).
	// Empty with tls secret: the Secret is made from the ingressTlsCertificate and
	// ingressTlsKey config secrets.
	TLSSecretName string `json:"tlsSecretName"`
	// SkipAwait stops Pulumi waiting for a load balancer address, for clusters without an
	// Ingress controller. Defaults to false.
	SkipAwait bool `json:"skipAwait"`
}

// PublisherConfig is the `publisher` key.
type PublisherConfig struct {
	// Enabled runs the Job that publishes the hello API. Defaults to true (needs the backend).
	Enabled *bool `json:"enabled"`
	// Image runs publish.py. Defaults to python:3.13-alpine.
	Image string `json:"image"`
}

// AnalyticsConfig is the `analytics` key.
type AnalyticsConfig struct {
	// Mode is opensearch (self-hosted, the default), moesif (SaaS) or none.
	Mode string `json:"mode"`
	// Replicas of OpenSearch: 1, or an odd number of at least 3. Defaults to 1.
	Replicas int `json:"replicas"`
	// Image, DashboardsImage and ShipperImage default to OpenSearch 2.19.1 and Fluent Bit.
	Image           string `json:"image"`
	DashboardsImage string `json:"dashboardsImage"`
	ShipperImage    string `json:"shipperImage"`
	// StorageSize (default 20Gi) and StorageClass (default the cluster's) per node.
	StorageSize  string `json:"storageSize"`
	StorageClass string `json:"storageClass"`
	// Resources and HeapMB per node. Default 500m/2Gi, 2/2Gi and 1024.
	Resources kube.Resources `json:"resources"`
	HeapMB    int            `json:"heapMb"`
	// Protect guards the OpenSearch StatefulSet. Defaults to true.
	Protect *bool `json:"protect"`
}

// ingressTLSFromConfig says the ingress certificate comes from config secrets.
func (c *Config) ingressTLSFromConfig() bool {
	return c.Ingress.Enabled != nil && *c.Ingress.Enabled && c.Ingress.TLS == "secret" && c.Ingress.TLSSecretName == ""
}
