package tests

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The NetworkPolicies of each stack, evaluated as a policy-enforcing CNI would: a connection
// passes when the destination's ingress policies and the source's egress policies all allow
// it (a pod no policy selects in a direction is open in that direction). The tests below run
// the product's flows, and the ones it must refuse, through that evaluation.

// endpoint is one end of a connection: a pod (namespace labels and pod labels) or an address
// outside the cluster.
type endpoint struct {
	name     string
	ns       map[string]string
	labels   map[string]string
	external netip.Addr
}

type netPolicy struct {
	name     string
	ns       string
	selector map[string]any
	types    []any
	ingress  []any
	egress   []any
}

type traffic struct {
	policies   []netPolicy
	namespaces map[string]map[string]string // name -> labels, as the API server sets them
	pods       map[string]endpoint          // by the workload's Pulumi name
}

func trafficOf(t *testing.T, g *harness.Graph) traffic {
	t.Helper()
	tr := traffic{namespaces: map[string]map[string]string{}, pods: map[string]endpoint{}}
	for _, ns := range g.OfType(typeNamespace) {
		name := ns.String("metadata.name")
		labels := map[string]string{"kubernetes.io/metadata.name": name}
		if l, ok := ns.Get("metadata.labels").(map[string]any); ok {
			for k, v := range l {
				labels[k] = fmt.Sprint(v)
			}
		}
		tr.namespaces[name] = labels
	}
	for _, np := range g.OfType(typeNetPol) {
		p := netPolicy{name: np.Name, ns: np.String("metadata.namespace")}
		p.selector, _ = np.Get("spec.podSelector.matchLabels").(map[string]any)
		p.types, _ = np.Get("spec.policyTypes").([]any)
		p.ingress, _ = np.Get("spec.ingress").([]any)
		p.egress, _ = np.Get("spec.egress").([]any)
		require.NotEmpty(t, p.ns, "%s: namespaced", np.Name)
		tr.policies = append(tr.policies, p)
	}
	for _, typ := range []string{typeDeployment, typeStatefulSet, "kubernetes:batch/v1:Job"} {
		for _, w := range g.OfType(typ) {
			ns := w.String("metadata.namespace")
			nsLabels, ok := tr.namespaces[ns]
			require.True(t, ok, "%s runs in %q, a namespace of the stack", w.Name, ns)
			labels := map[string]string{}
			for k, v := range w.Get("spec.template.metadata.labels").(map[string]any) {
				labels[k] = fmt.Sprint(v)
			}
			tr.pods[w.Name] = endpoint{name: w.Name, ns: nsLabels, labels: labels}
		}
	}
	return tr
}

func (tr traffic) pod(t *testing.T, name string) endpoint {
	t.Helper()
	p, ok := tr.pods[name]
	require.True(t, ok, "the stack runs %s", name)
	return p
}

// outside is a pod of a namespace the stack does not own.
func outside(ns string, labels map[string]string) endpoint {
	return endpoint{name: ns + "/" + fmt.Sprint(labels), ns: map[string]string{"kubernetes.io/metadata.name": ns}, labels: labels}
}

func external(addr string) endpoint {
	return endpoint{name: addr, external: netip.MustParseAddr(addr)}
}

func subset(sel map[string]any, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

func has(types []any, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// peerMatches: ipBlock peers match addresses outside the cluster only (as Cilium, GKE
// Dataplane V2's engine, applies them), selectors match pods.
func (p netPolicy) peerMatches(peer map[string]any, e endpoint) bool {
	if block, ok := peer["ipBlock"].(map[string]any); ok {
		if !e.external.IsValid() {
			return false
		}
		return netip.MustParsePrefix(block["cidr"].(string)).Contains(e.external)
	}
	if e.external.IsValid() {
		return false
	}
	nsSel, hasNS := peer["namespaceSelector"].(map[string]any)
	if hasNS {
		if !subset(nsSel["matchLabels"].(map[string]any), e.ns) {
			return false
		}
	} else if e.ns["kubernetes.io/metadata.name"] != p.ns {
		return false
	}
	if podSel, ok := peer["podSelector"].(map[string]any); ok {
		sel, _ := podSel["matchLabels"].(map[string]any)
		return subset(sel, e.labels)
	}
	return true
}

func portMatches(rule map[string]any, port int, proto string) bool {
	ports, _ := rule["ports"].([]any)
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		m := p.(map[string]any)
		if m["port"] == float64(port) && m["protocol"] == proto {
			return true
		}
	}
	return false
}

// admits says whether the policies of e's namespace that select e allow the connection in
// direction dir ("Ingress": from peer; "Egress": to peer).
func (tr traffic) admits(e endpoint, dir string, peer endpoint, port int, proto string) bool {
	if e.external.IsValid() {
		return true
	}
	selected := false
	for _, p := range tr.policies {
		if p.ns != e.ns["kubernetes.io/metadata.name"] || !subset(p.selector, e.labels) || !has(p.types, dir) {
			continue
		}
		selected = true
		rules, field := p.ingress, "from"
		if dir == "Egress" {
			rules, field = p.egress, "to"
		}
		for _, r := range rules {
			rule := r.(map[string]any)
			peers, _ := rule[field].([]any)
			if !portMatches(rule, port, proto) {
				continue
			}
			if len(peers) == 0 {
				return true
			}
			for _, pe := range peers {
				if p.peerMatches(pe.(map[string]any), peer) {
					return true
				}
			}
		}
	}
	return !selected
}

func (tr traffic) allows(from, to endpoint, port int, proto string) bool {
	return tr.admits(to, "Ingress", from, port, proto) && tr.admits(from, "Egress", to, port, proto)
}

type flow struct {
	from, to string
	port     int
}

func TestNetworkPoliciesAllowTheProductsFlowsOnly(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			tr := trafficOf(t, g)
			ends := map[string]endpoint{
				"cp": tr.pod(t, "apim-cp"), "gw": tr.pod(t, "apim-gw"), "db": tr.pod(t, "apim-mysql"),
				"hello": tr.pod(t, "apim-hello"), "publisher": tr.pod(t, "apim-publish-hello"),
				"opensearch": tr.pod(t, "apim-analytics"), "dashboards": tr.pod(t, "apim-analytics-dashboards"),
				"dns":      outside("kube-system", map[string]string{"k8s-app": "kube-dns"}),
				"internet": external("151.101.0.1"),
				"stranger": outside("team-x", map[string]string{"app": "web"}),
			}
			// The load balancer's front ends (GKE) or the ingress controller's pods (local).
			ends["edge"] = external("35.191.10.20")
			if stack == "local" {
				ends["edge"] = outside("ingress-nginx", map[string]string{"app.kubernetes.io/name": "ingress-nginx"})
			}

			allowed := []flow{
				{"edge", "gw", 8243}, {"edge", "gw", 8280}, {"edge", "gw", 9099}, {"edge", "cp", 9443}, {"edge", "dashboards", 5601},
				{"gw", "cp", 9443}, {"gw", "cp", 5672}, {"gw", "cp", 9611}, {"gw", "cp", 9711},
				{"cp", "gw", 9443}, {"cp", "db", 3306}, {"gw", "db", 3306},
				{"gw", "hello", 9090}, {"gw", "opensearch", 9200}, {"gw", "internet", 443},
				{"dashboards", "opensearch", 9200}, {"publisher", "cp", 9443},
				// The JDBC driver's download, by both servers' init containers.
				{"cp", "internet", 443},
			}
			refused := []flow{
				{"edge", "db", 3306}, {"edge", "cp", 5672}, {"edge", "cp", 9763}, {"edge", "opensearch", 9200}, {"edge", "hello", 9090},
				{"stranger", "cp", 9443}, {"stranger", "gw", 8243}, {"stranger", "db", 3306}, {"stranger", "hello", 9090},
				{"hello", "db", 3306}, {"hello", "cp", 9443}, {"hello", "internet", 443},
				{"publisher", "db", 3306}, {"publisher", "gw", 8243}, {"publisher", "internet", 443},
				{"db", "internet", 443}, {"db", "cp", 9443}, {"opensearch", "internet", 443},
				{"dashboards", "db", 3306}, {"dashboards", "cp", 9443},
				{"cp", "db", 22}, {"gw", "internet", 22}, {"cp", "opensearch", 9200},
			}
			for _, f := range allowed {
				assert.True(t, tr.allows(ends[f.from], ends[f.to], f.port, "TCP"), "%s: %s -> %s:%d must be allowed", stack, f.from, f.to, f.port)
			}
			for _, f := range refused {
				assert.False(t, tr.allows(ends[f.from], ends[f.to], f.port, "TCP"), "%s: %s -> %s:%d must be refused", stack, f.from, f.to, f.port)
			}
			// Every pod may resolve names, and only on port 53.
			for name, p := range tr.pods {
				assert.True(t, tr.allows(p, ends["dns"], 53, "UDP"), "%s: %s resolves names", stack, name)
				assert.False(t, tr.allows(p, ends["dns"], 8080, "TCP"), "%s: %s reaches kube-dns on 53 only", stack, name)
			}
		})
	}
}

// Every namespace the stack deploys into denies by default, and every pod is selected by a
// policy of its own: nothing relies on the default-deny alone, nothing is open by omission.
func TestEveryPodHasItsOwnNetworkPolicy(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		g := run(t, stack, nil)
		tr := trafficOf(t, g)
		for ns := range tr.namespaces {
			var deny, dns bool
			for _, p := range tr.policies {
				if p.ns != ns || len(p.selector) != 0 {
					continue
				}
				deny = deny || (has(p.types, "Ingress") && has(p.types, "Egress") && len(p.ingress) == 0 && len(p.egress) == 0)
				dns = dns || (has(p.types, "Egress") && !has(p.types, "Ingress"))
			}
			assert.True(t, deny, "%s: namespace %s denies by default", stack, ns)
			assert.True(t, dns, "%s: namespace %s allows DNS lookups", stack, ns)
		}
		for name, pod := range tr.pods {
			var own []string
			for _, p := range tr.policies {
				if p.ns == pod.ns["kubernetes.io/metadata.name"] && len(p.selector) > 0 && subset(p.selector, pod.labels) {
					own = append(own, p.name)
				}
			}
			if name == "apim-nfs-dirs" {
				// The Filestore directory Job talks to nobody: the kubelet mounts the share.
				assert.Empty(t, own, "%s: %s", stack, name)
				continue
			}
			assert.Len(t, own, 1, "%s: %s is selected by exactly one policy of its own: %v", stack, name, own)
		}
	}
}
