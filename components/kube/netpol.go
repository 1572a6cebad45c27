package kube

import (
	"net/url"
	"strconv"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Every namespace this project deploys denies all traffic by default (NewNamespacePolicies);
// each workload then allows exactly what it serves and what it calls, with these types.

// Peer is one end of a rule: pods with Pods' labels (in this namespace, or in the namespaces
// with Namespaces' labels), or an address range (CIDR). Pods nil means every pod: of this
// namespace when Namespaces is nil too, of the matching namespaces otherwise.
type Peer struct {
	Pods       map[string]string
	Namespaces map[string]string
	CIDR       string
}

// Port is a port and its protocol (TCP when empty).
type Port struct {
	Number   int
	Protocol string
}

// TCP lists TCP ports.
func TCP(ports ...int) []Port {
	out := make([]Port, len(ports))
	for i, p := range ports {
		out[i] = Port{Number: p}
	}
	return out
}

// Rule admits traffic with Peers (anyone when empty) on Ports (every port when empty).
type Rule struct {
	Peers []Peer
	Ports []Port
}

// InNamespace is the peer of every pod of the namespace named name.
func InNamespace(name string) Peer {
	return Peer{Namespaces: map[string]string{"kubernetes.io/metadata.name": name}}
}

func (p Peer) args() networkingv1.NetworkPolicyPeerArgs {
	if p.CIDR != "" {
		return networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(p.CIDR)}}
	}
	out := networkingv1.NetworkPolicyPeerArgs{}
	if p.Pods != nil || p.Namespaces == nil {
		out.PodSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(p.Pods)}
	}
	if p.Namespaces != nil {
		out.NamespaceSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(p.Namespaces)}
	}
	return out
}

func (r Rule) parts() (networkingv1.NetworkPolicyPeerArray, networkingv1.NetworkPolicyPortArray) {
	var peers networkingv1.NetworkPolicyPeerArray
	for _, p := range r.Peers {
		peers = append(peers, p.args())
	}
	var ports networkingv1.NetworkPolicyPortArray
	for _, p := range r.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		ports = append(ports, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(proto), Port: pulumi.Int(p.Number)})
	}
	return peers, ports
}

// PolicySpec is the allow-list of the selected pods: both directions are restricted, so an
// empty ingress (egress) list admits nothing in (out) beyond what other policies allow.
func PolicySpec(selected map[string]string, ingress, egress []Rule) *networkingv1.NetworkPolicySpecArgs {
	spec := &networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selected)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{},
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{},
	}
	for _, r := range ingress {
		peers, ports := r.parts()
		spec.Ingress = append(spec.Ingress.(networkingv1.NetworkPolicyIngressRuleArray), networkingv1.NetworkPolicyIngressRuleArgs{From: peers, Ports: ports})
	}
	for _, r := range egress {
		peers, ports := r.parts()
		spec.Egress = append(spec.Egress.(networkingv1.NetworkPolicyEgressRuleArray), networkingv1.NetworkPolicyEgressRuleArgs{To: peers, Ports: ports})
	}
	return spec
}

// NewPolicy creates the allow-list of the selected pods.
func NewPolicy(ctx *pulumi.Context, name string, meta *metav1.ObjectMetaArgs, selected map[string]string,
	ingress, egress []Rule, opts ...pulumi.ResourceOption) error {
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta,
		Spec:     PolicySpec(selected, ingress, egress),
	}, opts...)
	return err
}

// DNS lets a pod resolve names: port 53 to the cluster's DNS pods and to node-local or
// upstream resolvers.
var DNS = Rule{
	Peers: []Peer{{Namespaces: map[string]string{}}, {CIDR: "0.0.0.0/0"}},
	Ports: []Port{{Number: 53, Protocol: "UDP"}, {Number: 53, Protocol: "TCP"}},
}

// NewNamespacePolicies denies all traffic to and from every pod of a namespace except DNS
// lookups; each workload's own policy adds what it needs. name prefixes the two policies'
// Pulumi names.
func NewNamespacePolicies(ctx *pulumi.Context, name string, namespace pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	labels := Labels("default-deny", "network-policy", "", nil)
	if err := NewPolicy(ctx, name+"-default-deny", Meta("default-deny", namespace, labels), map[string]string{}, nil, nil, opts...); err != nil {
		return err
	}
	// Egress only: a policy that also listed Ingress would say nothing more, but reads as if
	// it restricted something.
	dns := PolicySpec(map[string]string{}, nil, []Rule{DNS})
	dns.PolicyTypes = pulumi.StringArray{pulumi.String("Egress")}
	dns.Ingress = nil
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-allow-dns", &networkingv1.NetworkPolicyArgs{
		Metadata: Meta("allow-dns", namespace, labels),
		Spec:     dns,
	}, opts...)
	return err
}

// PortOf is the TCP port a client of rawURL connects to: its explicit port, else 80 for http
// and 443 otherwise (also when rawURL does not parse: validation reports that elsewhere).
func PortOf(rawURL string) int {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}
