package apim

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// MoesifSecretKey is the key of the Moesif application id in the control plane's Secret.
const MoesifSecretKey = "moesif-key"

// ControlPlane is the component's public face.
type ControlPlane struct {
	pulumi.ResourceState

	// Service is the in-cluster Service name (publisher, devportal, key manager, event hub).
	Service string
	// TOML is the rendered deployment.toml.
	TOML string
	// Credentials are the Secret keys gateways of this control plane must use.
	Credentials Credentials
}

// NewControlPlane creates the control plane: one all-in-one API Manager acting as publisher,
// devportal, admin, key manager and traffic manager. It is deliberately one replica: WSO2's
// all-in-one HA is two fixed, cross-wired nodes, not a scalable set; gateways carry on serving
// from their caches while it restarts.
func NewControlPlane(ctx *pulumi.Context, name string, args *ControlPlaneArgs, opts ...pulumi.ResourceOption) (*ControlPlane, error) {
	if args == nil {
		return nil, fmt.Errorf("apim control plane %q: args are required", name)
	}
	if args.credentialsConflict() {
		return nil, fmt.Errorf("apim control plane %q: Credentials names existing Secrets, so AdminPassword and EncryptionKey must be left out (or set them and leave Credentials out)", name)
	}
	a := args.WithDefaults()
	if err := check(fmt.Sprintf("apim control plane %q", name), a.Workload.Validate(""), a.Shared); err != nil {
		return nil, err
	}
	cp := &ControlPlane{Service: a.Name, TOML: RenderControlPlaneTOML(a), Credentials: a.Credentials}
	if err := ctx.RegisterComponentResource("wso2apim:apim:ControlPlane", name, cp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(cp)
	one := 1
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
		w: a.Workload, sh: a.Shared, component: ComponentControlPlane, toml: cp.TOML, replicas: &one,
		ports: map[string]int{
			"https": PortHTTPS, "http": PortHTTP, "gw-https": PortGatewayHTTPS, "gw-http": PortGatewayHTTP,
			"tm-binary": PortThrottle, "tm-binary-ssl": PortThrottleSSL, "jms": PortEventHub,
		},
	}
	if _, err := newWorkload(ctx, name, s, parent); err != nil {
		return nil, err
	}

	// The event hub and traffic manager ports carry admin-authenticated control traffic:
	// only gateways may reach them. The HTTPS ports stay open for ingress and users.
	port := func(p int) networkingv1.NetworkPolicyPortArgs {
		return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)}
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: s.meta(a.Name),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(s.selector())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				networkingv1.NetworkPolicyIngressRuleArgs{
					From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
						PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(a.GatewaySelector)},
					}},
					Ports: networkingv1.NetworkPolicyPortArray{port(PortThrottle), port(PortThrottleSSL), port(PortEventHub)},
				},
				networkingv1.NetworkPolicyIngressRuleArgs{
					Ports: networkingv1.NetworkPolicyPortArray{port(PortHTTPS), port(PortHTTP), port(PortGatewayHTTPS), port(PortGatewayHTTP)},
				},
			},
		},
	}, parent); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(cp, pulumi.Map{"service": pulumi.String(cp.Service)}); err != nil {
		return nil, err
	}
	return cp, nil
}
