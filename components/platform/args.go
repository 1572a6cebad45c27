package platform

import (
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/network"
	"github.com/wso2-k8s/apim-gke/components/nfs"
	"github.com/wso2-k8s/apim-gke/components/publisher"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args is the whole product. Each field is one top-level key of a stack's config (JSON names),
// decoded straight into the types the components take; zero values mean "the default", applied
// by WithDefaults and the components' own WithDefaults, nowhere else.
type Args struct {
	// Cluster chooses and configures the Kubernetes cluster.
	Cluster ClusterArgs `json:"cluster"`
	// NodePool configures the GKE node pool (mode gke only).
	NodePool gke.NodePoolArgs `json:"nodePool"`
	// APIM configures the API Manager control plane and what its gateways share with it.
	APIM APIMArgs `json:"apim"`
	// Gateway configures the autoscaled universal gateway.
	Gateway apim.GatewayArgs `json:"gateway"`
	// MySQL chooses and configures the database: Cloud SQL or in-cluster.
	MySQL MySQLArgs `json:"mysql"`
	// Backend configures the sample backend.
	Backend BackendArgs `json:"backend"`
	// NFS configures the shared file storage.
	NFS nfs.Args `json:"nfs"`
	// Ingress publishes the portals and the gateway.
	Ingress IngressArgs `json:"ingress"`
	// Publisher publishes the sample API on first deploy.
	Publisher PublisherArgs `json:"publisher"`
	// Analytics chooses where API analytics go.
	Analytics AnalyticsArgs `json:"analytics"`
	// Monitoring configures what watches the platform (monitoring.go).
	Monitoring MonitoringArgs `json:"monitoring"`
	// Secrets are the passwords and keys; those left nil are generated once and kept.
	Secrets Secrets `json:"-"`

	// resolved is what WithDefaults derived from the rest (resolve.go); nil before.
	resolved *resolution
}

// ClusterMode is the `cluster.mode` setting: where the platform's Kubernetes cluster comes from.
type ClusterMode string

// Cluster modes.
const (
	// ModeGKE creates a VPC, a GKE cluster and its node pool.
	ModeGKE ClusterMode = "gke"
	// ModeExisting deploys into a cluster that already exists; no Google Cloud resource is
	// created.
	ModeExisting ClusterMode = "existing"
)

// ClusterModes are the valid cluster modes.
var ClusterModes = []ClusterMode{ModeGKE, ModeExisting}

// ClusterArgs is the `cluster` key: the GKE settings (mode gke), how to reach an existing
// cluster (mode existing), and the workloads' namespace.
type ClusterArgs struct {
	// Mode is gke or existing (ClusterModes). Defaults to gke.
	Mode ClusterMode `json:"mode"`
	// The GKE cluster. Name defaults to "<platform name>-<stack>"; Project and Region to the
	// stack's gcp:project and gcp:region.
	gke.ClusterArgs
	// Network holds the VPC's address ranges (mode gke).
	Network network.Args `json:"network"`
	// Kubeconfig is a kubeconfig file's path or contents (mode existing). Defaults to the
	// ambient kubeconfig ($KUBECONFIG or ~/.kube/config).
	Kubeconfig string `json:"kubeconfig"`
	// Context is the kubeconfig context to use (mode existing). Defaults to its current one.
	Context string `json:"context"`
	// Namespace holds every workload. Defaults to "wso2-<platform name>".
	Namespace string `json:"namespace"`
	// Provider, in mode existing, is used instead of one made from Kubeconfig and Context.
	Provider *kubernetes.Provider `json:"-"`
}

// APIMArgs is the `apim` key: the control plane's workload settings, the domain its hosts are
// published under, the admin user and the JDBC driver.
type APIMArgs struct {
	apim.Workload
	// Replicas of the control plane: 2 or more run active-active (docs/operate.md, High
	// availability). Defaults to 1.
	Replicas int `json:"replicas"`
	// Domain under which the portals (am.<domain>) and the gateway (gw.<domain>) are
	// published. Defaults to apim.example.com.
	Domain string `json:"domain"`
	// AdminUsername defaults to admin.
	AdminUsername string `json:"adminUsername"`
	// JDBCDriver is where the MySQL Connector/J jar comes from. Defaults to Maven Central.
	JDBCDriver apim.JDBCDriver `json:"jdbcDriver"`
	// Keystores are the deployment's own keys: generated once per generation (bump
	// generation to rotate), or a Secret of yours (secretName). See docs/operate.md, Security.
	Keystores keystores.Args `json:"keystores"`
	// BackendEgress are the ranges and ports outside the cluster that the gateways (API
	// traffic) and the control plane (the publisher's endpoint test, import from a URL) may
	// call. Defaults to HTTPS and HTTP anywhere: [{cidr: 0.0.0.0/0, ports: [443, 80]}].
	BackendEgress []EgressTarget `json:"backendEgress"`
	// TrustedCertificates is a PEM bundle of CA certificates the API Manager pods trust
	// besides the public CAs and the deployment's own CA, e.g. your backends' private CA.
	TrustedCertificates string `json:"trustedCertificates"`
}

// EgressTarget is a range and the ports in it that API Manager's pods may call.
type EgressTarget struct {
	// CIDR is an IPv4 range, e.g. 10.20.0.0/16 for your backends' network. Required.
	CIDR string `json:"cidr"`
	// Ports are TCP ports, 1 to 65535. At least one.
	Ports []int `json:"ports"`
}

// BackendArgs is the `backend` key.
type BackendArgs struct {
	// Enabled deploys the sample backend. Defaults to true.
	Enabled *bool `json:"enabled"`
	backend.Args
}

// IngressArgs is the `ingress` key.
type IngressArgs struct {
	// Enabled publishes am.<domain> and gw.<domain>. Defaults to true.
	Enabled *bool `json:"enabled"`
	ingress.Args
}

// PublisherArgs is the `publisher` key.
type PublisherArgs struct {
	// Enabled runs the Job that publishes the hello API. Defaults to true; needs the backend.
	Enabled *bool `json:"enabled"`
	publisher.Args
}

// AnalyticsArgs is the `analytics` key.
type AnalyticsArgs struct {
	// Mode is opensearch (self-hosted, the default), moesif (SaaS) or none (analytics.Modes).
	Mode analytics.Mode `json:"mode"`
	// The OpenSearch stack (mode opensearch).
	analytics.Args
}

// Secrets are the product's secret values. Those marked "generated" are made once, on the
// first `up`, when left nil, and kept in the cluster (see package secrets); a value set here
// always wins. Pass Pulumi secrets.
type Secrets struct {
	// AdminPassword of API Manager's admin user. Generated.
	AdminPassword pulumi.StringInput
	// EncryptionKey every API Manager node shares (32 or 64 hex characters). Generated; never
	// change it after the first deploy.
	EncryptionKey pulumi.StringInput
	// MySQLRootPassword and MySQLPassword (the application user's). Generated.
	MySQLRootPassword pulumi.StringInput
	MySQLPassword     pulumi.StringInput
	// AnalyticsAdminPassword of OpenSearch (analytics mode opensearch). Generated.
	AnalyticsAdminPassword pulumi.StringInput
	// MoesifKey is the Moesif application id (analytics mode moesif). Required for it.
	MoesifKey pulumi.StringInput
	// IngressTLSCertificate and IngressTLSKey (PEM) make the ingress's TLS Secret (ingress.tls
	// secret without tlsSecretName). Required for it.
	IngressTLSCertificate pulumi.StringInput
	IngressTLSKey         pulumi.StringInput
}

// Context is what defaults come from besides Args: the component's name, the stack, and the
// stack's Google Cloud provider config.
type Context struct {
	Name, Stack           string
	GCPProject, GCPRegion string
}

func yes() *bool { v := true; return &v }

// WithDefaults returns a copy of a with every setting the platform decides filled in. Settings
// that belong to one component are left to that component's WithDefaults, except where the
// platform must know the value (e.g. to size the node pool or name a Service).
func (a Args) WithDefaults(c Context) Args {
	validate.Ran("platform.Args.WithDefaults")
	cl := &a.Cluster
	if cl.Mode == "" {
		cl.Mode = ModeGKE
	}
	if cl.Name == "" {
		cl.Name = c.Name + "-" + c.Stack
	}
	if cl.Namespace == "" {
		cl.Namespace = "wso2-" + c.Name
	}
	if cl.Mode == ModeGKE {
		if cl.Project == "" {
			cl.Project = c.GCPProject
		}
		if cl.Region == "" {
			cl.Region = c.GCPRegion
		}
		cl.ClusterArgs.NodePool = a.NodePool
		cl.ClusterArgs = cl.ClusterArgs.WithDefaults()
		a.NodePool = cl.ClusterArgs.NodePool
		cl.Network.Project, cl.Network.Region = cl.Project, cl.Region
		cl.Network = cl.Network.WithDefaults()
	}

	if a.APIM.Domain == "" {
		a.APIM.Domain = "apim.example.com"
	}
	for _, enabled := range []**bool{&a.Backend.Enabled, &a.Ingress.Enabled, &a.Publisher.Enabled} {
		if *enabled == nil {
			*enabled = yes()
		}
	}
	if a.Analytics.Mode == "" {
		a.Analytics.Mode = analytics.ModeOpenSearch
	}

	n := &a.NFS
	if n.Backend == "" {
		n.Backend = nfs.BackendVM
		if cl.Mode == ModeExisting {
			n.Backend = nfs.BackendInCluster
		}
	}
	if cl.Mode == ModeGKE && n.Cloud() {
		n.Region = cl.Region
		regional := n.Backend == nfs.BackendFilestore && slices.Contains(nfs.RegionalTiers, n.Tier)
		if n.Zone == "" && !regional {
			n.Zone = cl.Zone
			if n.Zone == "" && len(cl.NodeZones) > 0 {
				n.Zone = cl.NodeZones[0]
			}
			if n.Zone == "" && cl.Region != "" {
				n.Zone = cl.Region + "-b"
			}
		}
		// Only the kubelets mount NFS, from the nodes' range.
		n.ClientCIDRs = []string{cl.Network.NodeCIDR}
	}
	if n.ClientCIDRs == nil && n.Backend == nfs.BackendInCluster {
		// Local clusters' nodes live in private ranges; narrow this to yours.
		n.ClientCIDRs = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
	}
	n.Project = cl.Project
	n.Directories = kube.SortedKeys(SharedDirectories)
	n.VolumeName = "apim-shared-" + cl.Namespace
	*n = n.WithDefaults()

	a.Ingress.Mode = ingress.ModeClass
	if cl.Mode == ModeGKE {
		a.Ingress.Mode = ingress.ModeGKE
	}
	// GKE's autoscaler adds a node rather than stack two replicas of a workload on one; other
	// clusters may have a single node.
	spread := kube.SpreadNodesPreferred
	if cl.Mode == ModeGKE {
		spread = kube.SpreadNodesRequired
	}
	a.APIM.NodeSpread, a.Gateway.NodeSpread, a.Backend.NodeSpread, a.Analytics.NodeSpread = spread, spread, spread, spread
	a.Ingress.Args = a.Ingress.Args.WithDefaults()
	a.Publisher.Args = a.Publisher.Args.WithDefaults()
	a.Analytics.Args = a.Analytics.Args.WithDefaults()
	a.Backend.Args = a.Backend.Args.WithDefaults()
	a.APIM.JDBCDriver = a.APIM.JDBCDriver.WithDefaults()
	if a.APIM.BackendEgress == nil {
		a.APIM.BackendEgress = []EgressTarget{{CIDR: "0.0.0.0/0", Ports: []int{443, 80}}}
	}
	// In this order: API Manager's args read the metrics agent's settings, and the database's
	// connection budget and the keystores' names read API Manager's.
	a.Monitoring = a.monitoringDefaults()
	a.resolveAPIM()
	a.MySQL = a.mysqlDefaults()
	// The keys are as precious as the data they sign for: protected like the generated
	// passwords. The TLS certificate names every Service the pods call each other by.
	a.APIM.Keystores.Name = c.Name + "-keystores"
	a.APIM.Keystores.Protect = a.MySQL.Protect
	a.APIM.Keystores.DNSNames = serviceDNSNames(cl.Namespace, a.APIM.Workload.Name, a.Gateway.Name, "*."+apim.NodesService(a.APIM.Workload.Name))
	a.APIM.Keystores = a.APIM.Keystores.WithDefaults()
	return a
}

// SharedDirectories are the API Manager 4.x directories every node must see alike: secondary
// user stores added at run time, and tenants' artifacts. The 2.x/3.x shared synapse-configs
// are gone: gateways now load APIs from the control plane. Keyed by the subPath in the share.
var SharedDirectories = map[string]string{
	"userstores": "repository/deployment/server/userstores",
	"tenants":    "repository/tenants",
}

// Hosts are the public host names: the portals and the gateway.
func (a Args) Hosts() (management, gateway string) {
	return "am." + a.APIM.Domain, "gw." + a.APIM.Domain
}
