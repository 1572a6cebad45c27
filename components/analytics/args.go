package analytics

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Mode is where API analytics go (the stack's analytics.mode; the component itself is only for
// opensearch).
type Mode string

// Analytics modes.
const (
	ModeOpenSearch Mode = "opensearch"
	ModeMoesif     Mode = "moesif"
	ModeNone       Mode = "none"
)

// Modes are the valid analytics modes.
var Modes = []Mode{ModeOpenSearch, ModeMoesif, ModeNone}

// DashboardsPortName is the Dashboards Service's port, and DashboardsHealthPath the page that
// answers once Dashboards can serve (its readiness probe and the load balancer's check).
const (
	DashboardsPortName   = "http"
	DashboardsHealthPath = "/app/login"
)

// StoreComponent is the OpenSearch pods' component label.
const StoreComponent = "analytics-store"

// StoreSelector picks the OpenSearch pods of the store named name: the shippers write there.
func StoreSelector(name string) map[string]string { return kube.Selector(name, StoreComponent) }

// Index names WSO2's guide uses for successful and failed API calls.
const (
	IndexResponse = "apim_event_response"
	IndexFaulty   = "apim_event_faulty"
)

// Args configures the OpenSearch analytics stack. Zero values are replaced by the defaults in
// WithDefaults. The JSON names are the settings of a stack's `analytics` config key.
type Args struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput `json:"-"`
	// Name of the OpenSearch StatefulSet and Service. Defaults to "opensearch".
	Name string `json:"-"`
	// Replicas is 1 (a single node) or an odd number of at least 3 (a cluster with a
	// quorum of cluster managers). Defaults to 1.
	Replicas int `json:"replicas"`
	// Image and DashboardsImage default to OpenSearch 2.19.1.
	Image           string `json:"image"`
	DashboardsImage string `json:"dashboardsImage"`
	// ShipperImage is Fluent Bit. Defaults to fluent/fluent-bit:3.2.2.
	ShipperImage string `json:"shipperImage"`
	// AdminPassword of OpenSearch's security plugin. Required; a secret.
	AdminPassword pulumi.StringInput `json:"-"`
	// StorageSize per node. Defaults to 20Gi. StorageClass defaults to the cluster's.
	StorageSize  string `json:"storageSize"`
	StorageClass string `json:"storageClass"`
	// Resources per OpenSearch node. Default to requests 500m/2Gi, limits 2/2Gi; ephemeral
	// storage (logs; the data has its volume) 512Mi, up to 2Gi.
	Resources kube.Resources `json:"resources"`
	// HeapMB of OpenSearch, at most 75% of the memory limit (OpenSearch wants about half).
	// Defaults to 1024.
	HeapMB int `json:"heapMb"`
	// ShipperClients are the pods (gateways with the shipper sidecar) that may write to
	// OpenSearch; Dashboards may too. Nobody else reaches it.
	ShipperClients []map[string]string `json:"-"`
	// Protect guards the StatefulSet. Defaults to true.
	Protect *bool `json:"protect"`
	// DashboardsClients may reach Dashboards (the load balancer or the ingress controller).
	// Empty: the pods of the namespace.
	DashboardsClients []kube.Peer `json:"-"`
	// NodeSpread says (for the OpenSearch nodes) how strictly replicas keep to different nodes (kube.Spread).
	// Defaults to preferred (a cluster may have one node); the Platform asks for required on
	// GKE, whose autoscaler adds the nodes.
	NodeSpread kube.NodeSpread `json:"-"`
	// PreStopSeconds Dashboards keeps serving once told to stop, while the load balancer or
	// Ingress controller drains it (see ingress.Args.PreStopSeconds). Defaults to 15.
	PreStopSeconds int `json:"-"`
	// DashboardsServiceAnnotations are put on the Dashboards Service (e.g. for a load
	// balancer, see ingress.HTTPServiceAnnotations).
	DashboardsServiceAnnotations map[string]string `json:"-"`
}

// DashboardsName is the Dashboards Deployment's and Service's name.
func (a Args) DashboardsName() string { return a.Name + "-dashboards" }

// Validate checks defaulted args; key prefixes every message (e.g. "analytics").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	if r := a.Replicas; r < 1 || (r > 1 && (r < 3 || r%2 == 0)) {
		p.Addf(k("replicas"), "%d is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum", r)
	}
	p.Resources(k("resources"), a.Resources)
	if a.HeapMB < 256 {
		p.Addf(k("heapMb"), "%d is not valid; want 256 or more (MiB)", a.HeapMB)
	}
	if limit, err := kube.MemoryBytes(a.Resources.Limits.Memory); err == nil && int64(a.HeapMB)<<20 > limit*3/4 {
		p.Addf(k("heapMb"), "%d MiB does not fit %s.limits.memory (%s); OpenSearch wants the heap at about half the memory", a.HeapMB, k("resources"), a.Resources.Limits.Memory)
	}
	p.Quantity(k("storageSize"), a.StorageSize, "20Gi")
	p.Image(k("image"), a.Image, "opensearchproject/opensearch:2.19.1")
	p.Image(k("dashboardsImage"), a.DashboardsImage, "opensearchproject/opensearch-dashboards:2.19.1")
	p.Image(k("shipperImage"), a.ShipperImage, "fluent/fluent-bit:3.2.2")
	return p
}

// DashboardsResources are what OpenSearch Dashboards requests and may use.
var DashboardsResources = kube.Resources{Requests: kube.Compute{CPU: "100m", Memory: "512Mi", EphemeralStorage: "256Mi"},
	Limits: kube.Compute{CPU: "1", Memory: "1Gi", EphemeralStorage: "1Gi"}}

// HTTPPort is OpenSearch's REST API (HTTPS), where the shippers write.
const HTTPPort = 9200

// DashboardsPort is where OpenSearch Dashboards listens (plain HTTP).
const DashboardsPort = 5601

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Name == "" {
		a.Name = "opensearch"
	}
	if a.Replicas == 0 {
		a.Replicas = 1
	}
	if a.PreStopSeconds == 0 {
		a.PreStopSeconds = 15
	}
	if a.NodeSpread == "" {
		a.NodeSpread = kube.SpreadNodesPreferred
	}
	if a.Image == "" {
		a.Image = "opensearchproject/opensearch:2.19.1"
	}
	if a.DashboardsImage == "" {
		a.DashboardsImage = "opensearchproject/opensearch-dashboards:2.19.1"
	}
	if a.ShipperImage == "" {
		a.ShipperImage = "fluent/fluent-bit:3.2.2"
	}
	if a.StorageSize == "" {
		a.StorageSize = "20Gi"
	}
	a.Resources = a.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "500m", Memory: "2Gi", EphemeralStorage: "512Mi"},
		Limits:   kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "2Gi"},
	})
	if a.HeapMB == 0 {
		a.HeapMB = 1024
	}
	if a.Protect == nil {
		p := true
		a.Protect = &p
	}
	return a
}

// Analytics is the component's public face.
type Analytics struct {
	pulumi.ResourceState

	// Endpoint is OpenSearch's in-cluster HTTPS URL.
	Endpoint string
	// Credentials holds the admin password (key "admin-password").
	Credentials kube.SecretRef
	// DashboardsService and DashboardsPort reach OpenSearch Dashboards.
	DashboardsService string
	DashboardsPort    int
	// ShipperConfigMap holds the Fluent Bit configuration the gateway sidecar mounts.
	ShipperConfigMap string
	// ShipperImage runs the sidecar.
	ShipperImage string
}
