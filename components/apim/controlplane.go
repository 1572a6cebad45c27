package apim

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// MoesifSecretKey is the key of the Moesif application id in the control plane's Secret.
const MoesifSecretKey = "moesif-key"

// ControlPlane is the component's public face.
type ControlPlane struct {
	pulumi.ResourceState

	// Service is the in-cluster Service name (publisher, devportal, key manager).
	Service string
	// Nodes are the nodes' own host names (event hub, traffic manager, broker), node 0 first.
	Nodes []string
	// TOMLs are the nodes' rendered deployment.toml files, node 0 first.
	TOMLs []string
	// Credentials are the Secret keys gateways of this control plane must use.
	Credentials Credentials
}

// NewControlPlane creates the control plane: all-in-one API Manager nodes (args.Replicas) acting
// as publisher, devportal, admin, key manager, traffic manager and event hub, as a StatefulSet
// whose nodes know each other by name (WSO2's active-active pattern for two or more).
func NewControlPlane(ctx *pulumi.Context, name string, args *ControlPlaneArgs, opts ...pulumi.ResourceOption) (*ControlPlane, error) {
	if args == nil {
		return nil, fmt.Errorf("apim control plane %q: args are required", name)
	}
	if args.credentialsConflict() {
		return nil, fmt.Errorf("apim control plane %q: Credentials names existing Secrets, so AdminPassword and EncryptionKey must be left out (or set them and leave Credentials out)", name)
	}
	a, problems := args.Resolve("")
	if a.Credentials == (Credentials{}) && a.AdminPassword != nil && a.EncryptionKey != nil {
		a.Credentials = CredentialsSecret(a.Name)
	}
	if err := check(fmt.Sprintf("apim control plane %q", name), problems, a.Shared, a.resolved); err != nil {
		return nil, err
	}
	cp := &ControlPlane{Service: a.Name, Nodes: NodeHosts(a.Name, a.Replicas), TOMLs: RenderControlPlaneTOMLs(a), Credentials: a.Credentials}
	if err := ctx.RegisterComponentResource("wso2apim:apim:ControlPlane", name, cp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(cp)
	if a.AdminPassword != nil && a.EncryptionKey != nil {
		data := pulumi.StringMap{
			a.Credentials.AdminPassword.Key: pulumi.ToSecret(a.AdminPassword).(pulumi.StringOutput),
			a.Credentials.EncryptionKey.Key: pulumi.ToSecret(a.EncryptionKey).(pulumi.StringOutput),
		}
		if a.MoesifKey != nil {
			data[MoesifSecretKey] = pulumi.ToSecret(a.MoesifKey).(pulumi.StringOutput)
		}
		if _, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
			Metadata:   kube.Meta(a.Credentials.AdminPassword.Name, a.Namespace, kube.Labels(a.Name, ComponentControlPlane, "", nil)),
			Type:       pulumi.String("Opaque"),
			StringData: data,
		}, parent); err != nil {
			return nil, err
		}
	}
	s := workloadSpec{
		w: a.Workload, sh: a.Shared, component: ComponentControlPlane, tomls: cp.TOMLs, nodes: a.Replicas,
		ports: map[string]int{
			PortNameHTTPS: PortHTTPS, "http": PortHTTP, PortNameGatewayHTTPS: PortGatewayHTTPS, "gw-http": PortGatewayHTTP,
			"tm-binary": PortThrottle, "tm-binary-ssl": PortThrottleSSL, "jms": PortEventHub,
		},
	}
	if _, err := newWorkload(ctx, name, s, parent); err != nil {
		return nil, err
	}

	// The event hub and traffic manager ports carry admin-authenticated control traffic: only
	// gateways reach them (and the server itself, through its Service). The portals' port is
	// for the clients (load balancer, ingress controller) and the gateways.
	self, gateways := []kube.Peer{{Pods: s.selector()}}, []kube.Peer{{Pods: a.GatewaySelector}}
	control := kube.TCP(PortHTTPS, PortThrottle, PortThrottleSSL, PortEventHub)
	ingress := []kube.Rule{
		{Peers: append(self, gateways...), Ports: control},
		{Peers: a.clients(), Ports: kube.TCP(PortHTTPS)},
	}
	egress := append([]kube.Rule{
		{Peers: self, Ports: control},
		// APIs are deployed to the gateways' admin service.
		{Peers: gateways, Ports: kube.TCP(PortHTTPS)},
		a.JDBCDriver.egress(),
	}, a.Egress...)
	ingress, egress = a.Metrics.rules(ingress, egress)
	if err := kube.NewPolicy(ctx, name, s.meta(a.Name), s.selector(), ingress, egress, parent); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(cp, pulumi.Map{"service": pulumi.String(cp.Service)}); err != nil {
		return nil, err
	}
	return cp, nil
}
