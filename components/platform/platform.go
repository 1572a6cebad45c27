package platform

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/wso2-k8s/apim-gke/components/ingress"
)

// Platform is the component's public face: what a caller composes further or exports.
type Platform struct {
	pulumi.ResourceState

	// ClusterName is the GKE cluster's name (mode existing: cluster.name).
	ClusterName pulumi.StringOutput
	// ClusterEndpoint is the GKE control plane's address ("" in mode existing).
	ClusterEndpoint pulumi.StringOutput
	// Kubeconfig reaches the cluster with gke-gcloud-auth-plugin (no token in it); a secret.
	Kubeconfig pulumi.StringOutput
	// KubernetesProvider deploys into the cluster: pass it to anything you add.
	KubernetesProvider *kubernetes.Provider
	// Namespace holds the workloads.
	Namespace pulumi.StringOutput
	// ControlPlaneService, GatewayService and MySQLService are in-cluster Service names.
	ControlPlaneService, GatewayService, MySQLService pulumi.StringOutput
	// ManagementHost and GatewayHost are am.<domain> and gw.<domain>.
	ManagementHost, GatewayHost pulumi.StringOutput
	// BackendURL is the sample backend's in-cluster URL ("" when disabled).
	BackendURL pulumi.StringOutput
	// IngressAddress is the load balancer's address ("" without ingress, or until known).
	IngressAddress pulumi.StringOutput
	// PublisherURL, DevportalURL, HelloAPIURL and DashboardsURL are public URLs ("" when
	// the part is disabled).
	PublisherURL, DevportalURL, HelloAPIURL, DashboardsURL pulumi.StringOutput
	// AdminUsername and AdminPassword (a secret) log in to the portals.
	AdminUsername, AdminPassword pulumi.StringOutput
	// KeystoresExpire is when the generated certificates expire (RFC 3339; "" with your own
	// keystore Secret). Rotate before then: apim.keystores.generation.
	KeystoresExpire pulumi.StringOutput
	// GeneratedSecrets are the values the platform generated, by config key (e.g.
	// apimAdminPassword), as secrets.
	GeneratedSecrets pulumi.StringMapOutput
}

// NewPlatform validates args, then creates the cluster (or connects to it), the shared
// storage, MySQL, API Manager, analytics, the sample backend, ingress and the publisher, all
// as its descendants. Nothing is registered when args are invalid.
func NewPlatform(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Platform, error) {
	if args == nil {
		return nil, fmt.Errorf("platform %q: args are required", name)
	}
	a, problems := Resolve(ContextOf(ctx, name), *args)
	if err := problems.Err(fmt.Sprintf("platform %q", name)); err != nil {
		return nil, err
	}
	p := &Platform{}
	if err := ctx.RegisterComponentResource("wso2apim:platform:Platform", name, p, opts...); err != nil {
		return nil, err
	}
	if note := a.CapacityUnchecked(); note != "" && a.Cluster.Mode == ModeGKE {
		_ = ctx.Log.Warn(note, &pulumi.LogArgs{Resource: p})
	}
	if *a.Ingress.Enabled && a.Ingress.TLS == ingress.TLSNone {
		_ = ctx.Log.Warn("ingress.tls none: the edge serves plain HTTP, so the gateway's URLs are advertised as http:// and ws://, "+
			"and the portals' login, which needs HTTPS, will not work; use self-signed, secret or managed", &pulumi.LogArgs{Resource: p})
	}
	if note := a.AdminPathsUnfenced(); note != "" {
		_ = ctx.Log.Warn(note, &pulumi.LogArgs{Resource: p})
	}
	if a.APIM.JDBCDriver.SHA256 == "" {
		_ = ctx.Log.Warn(fmt.Sprintf("apim.jdbcDriver.sha256 is not pinned: the driver from %s is checked only against the checksum file the same server publishes; "+
			"pin it with tools/pin-jdbc-driver.sh %s (or `pulumi config set --path apim.jdbcDriver.sha256 <sha256 of the jar>`)",
			a.APIM.JDBCDriver.URL, ctx.Stack()), &pulumi.LogArgs{Resource: p})
	}
	b := &builder{ctx: ctx, name: name, a: a, p: p, parent: pulumi.Parent(p)}
	for _, step := range []func() error{b.cluster, b.namespaces, b.secrets, b.keystores, b.storage, b.database, b.apiManager, b.backend, b.edge, b.monitoring} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("platform %q: %w", name, err)
		}
	}
	b.outputs()
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{
		"clusterName":         p.ClusterName,
		"namespace":           p.Namespace,
		"controlPlaneService": p.ControlPlaneService,
		"gatewayService":      p.GatewayService,
		"publisherURL":        p.PublisherURL,
		"helloAPIURL":         p.HelloAPIURL,
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// ContextOf reads what defaults come from: the stack's name and its gcp:project and
// gcp:region, so a GCP user's usual `pulumi config set gcp:project` places the cluster.
func ContextOf(ctx *pulumi.Context, name string) Context {
	return Context{Name: name, Stack: ctx.Stack(),
		GCPProject: config.Get(ctx, "gcp:project"), GCPRegion: config.Get(ctx, "gcp:region")}
}

// AdminPathsUnfenced is the preview's warning when the portals' admin paths are published to
// everyone who can reach the portals ("" when they are fenced, or not published).
func (a Args) AdminPathsUnfenced() string {
	if !*a.Ingress.Enabled || len(a.Ingress.AdminAllowedCIDRs) > 0 {
		return ""
	}
	mgmt, _ := a.Hosts()
	return fmt.Sprintf("ingress.adminAllowedCidrs is empty: %s%s are as public as the portals; "+
		"set your operators' ranges (office, VPN): `pulumi config set --path 'ingress.adminAllowedCidrs[0]' <cidr>`",
		mgmt, strings.Join(AdminPaths, ", "+mgmt))
}
