package tests

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
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

// The evaluator reads each NetworkPolicy into the types below, and refuses (with the path of
// the field and why) any field or value it does not model: a policy it cannot judge fails the
// test instead of being judged as if the field were absent. Field semantics follow the
// Kubernetes API reference for networking.k8s.io/v1 NetworkPolicy and meta/v1 LabelSelector
// (kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).

// labelSelector is a meta/v1 LabelSelector; its requirements are ANDed, and an empty one
// selects everything.
type labelSelector struct {
	labels map[string]string
	exprs  []requirement
}

type requirement struct {
	key, op string
	values  []string
}

func (s labelSelector) empty() bool { return len(s.labels) == 0 && len(s.exprs) == 0 }

func (s labelSelector) matches(labels map[string]string) bool {
	for k, v := range s.labels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.exprs {
		v, ok := labels[r.key]
		switch r.op {
		case "In":
			if !ok || !slices.Contains(r.values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(r.values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		}
	}
	return true
}

// policyPeer is one entry of from/to: pods (by podSelector, in the policy's namespace unless a
// namespaceSelector names others) or an ipBlock.
type policyPeer struct {
	pods, namespaces *labelSelector
	block            *netip.Prefix
	except           []netip.Prefix
}

// policyPort is a protocol and a port range; from 0 means every port of the protocol.
type policyPort struct {
	proto    string
	from, to int
}

type policyRule struct {
	peers []policyPeer // empty: every peer
	ports []policyPort // empty: every port
}

type netPolicy struct {
	name            string
	ns              string
	selector        labelSelector
	types           []string
	ingress, egress []policyRule
}

// refusal is the evaluator's answer to a construct it does not model.
type refusal struct{ policy, path, why string }

func (r refusal) Error() string {
	return fmt.Sprintf("NetworkPolicy %s: %s: %s; the test's evaluator does not model it, so it cannot judge this policy", r.policy, r.path, r.why)
}

type policyReader struct{ name string }

func (pr policyReader) refuse(path, format string, args ...any) error {
	return refusal{pr.name, path, fmt.Sprintf(format, args...)}
}

// fields refuses any key of m outside known: a field added to a policy must be added here
// (modelled) before any test judges it.
func (pr policyReader) fields(path string, v any, known ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, pr.refuse(path, "want an object, got %T", v)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(known, k) {
			return nil, pr.refuse(path+"."+k, "field not modelled (modelled: %s)", strings.Join(known, ", "))
		}
	}
	return m, nil
}

func (pr policyReader) list(path string, v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, pr.refuse(path, "want a list, got %T", v)
	}
	return l, nil
}

func (pr policyReader) selector(path string, v any) (labelSelector, error) {
	m, err := pr.fields(path, v, "matchLabels", "matchExpressions")
	if err != nil {
		return labelSelector{}, err
	}
	s := labelSelector{labels: map[string]string{}}
	if ml, ok := m["matchLabels"]; ok && ml != nil {
		labels, ok := ml.(map[string]any)
		if !ok {
			return s, pr.refuse(path+".matchLabels", "want an object, got %T", ml)
		}
		for k, v := range labels {
			s.labels[k] = fmt.Sprint(v)
		}
	}
	exprs, err := pr.list(path+".matchExpressions", m["matchExpressions"])
	if err != nil {
		return s, err
	}
	for i, e := range exprs {
		at := fmt.Sprintf("%s.matchExpressions[%d]", path, i)
		em, err := pr.fields(at, e, "key", "operator", "values")
		if err != nil {
			return s, err
		}
		r := requirement{key: fmt.Sprint(em["key"]), op: fmt.Sprint(em["operator"])}
		vals, err := pr.list(at+".values", em["values"])
		if err != nil {
			return s, err
		}
		for _, v := range vals {
			r.values = append(r.values, fmt.Sprint(v))
		}
		switch r.op {
		case "In", "NotIn":
			if len(r.values) == 0 {
				return s, pr.refuse(at+".values", "operator %s needs values (the API server refuses it)", r.op)
			}
		case "Exists", "DoesNotExist":
			if len(r.values) != 0 {
				return s, pr.refuse(at+".values", "operator %s takes no values (the API server refuses it)", r.op)
			}
		default:
			return s, pr.refuse(at+".operator", "operator %q is not one of In, NotIn, Exists, DoesNotExist", r.op)
		}
		s.exprs = append(s.exprs, r)
	}
	return s, nil
}

func (pr policyReader) peer(path string, v any) (policyPeer, error) {
	m, err := pr.fields(path, v, "podSelector", "namespaceSelector", "ipBlock")
	if err != nil {
		return policyPeer{}, err
	}
	var p policyPeer
	if b, ok := m["ipBlock"]; ok {
		if len(m) > 1 {
			return p, pr.refuse(path, "ipBlock goes alone (the API server refuses it with a selector)")
		}
		bm, err := pr.fields(path+".ipBlock", b, "cidr", "except")
		if err != nil {
			return p, err
		}
		cidr, err := netip.ParsePrefix(fmt.Sprint(bm["cidr"]))
		if err != nil {
			return p, pr.refuse(path+".ipBlock.cidr", "%v", err)
		}
		p.block = &cidr
		except, err := pr.list(path+".ipBlock.except", bm["except"])
		if err != nil {
			return p, err
		}
		for i, e := range except {
			x, err := netip.ParsePrefix(fmt.Sprint(e))
			if err != nil {
				return p, pr.refuse(fmt.Sprintf("%s.ipBlock.except[%d]", path, i), "%v", err)
			}
			p.except = append(p.except, x)
		}
		return p, nil
	}
	for _, sel := range []struct {
		key string
		dst **labelSelector
	}{{"podSelector", &p.pods}, {"namespaceSelector", &p.namespaces}} {
		if v, ok := m[sel.key]; ok {
			s, err := pr.selector(path+"."+sel.key, v)
			if err != nil {
				return p, err
			}
			*sel.dst = &s
		}
	}
	if p.pods == nil && p.namespaces == nil {
		return p, pr.refuse(path, "a peer names podSelector, namespaceSelector or ipBlock")
	}
	return p, nil
}

func (pr policyReader) port(path string, v any) (policyPort, error) {
	m, err := pr.fields(path, v, "port", "protocol", "endPort")
	if err != nil {
		return policyPort{}, err
	}
	p := policyPort{proto: "TCP"} // the API's default protocol
	if proto, ok := m["protocol"]; ok && proto != nil {
		p.proto = fmt.Sprint(proto)
		if !slices.Contains([]string{"TCP", "UDP", "SCTP"}, p.proto) {
			return p, pr.refuse(path+".protocol", "%q is not TCP, UDP or SCTP", p.proto)
		}
	}
	switch port := m["port"].(type) {
	case nil:
	case float64:
		p.from, p.to = int(port), int(port)
	case string:
		// A named port resolves against the destination pod's container ports, which
		// endpoints do not carry (and pods outside the stack do not tell).
		return p, pr.refuse(path+".port", "named port %q", port)
	default:
		return p, pr.refuse(path+".port", "want a number, got %T", port)
	}
	if end, ok := m["endPort"]; ok && end != nil {
		e, isNum := end.(float64)
		if !isNum || p.from == 0 || int(e) < p.from {
			return p, pr.refuse(path+".endPort", "%v needs a numeric port no greater than it (the API server refuses it)", end)
		}
		p.to = int(e)
	}
	return p, nil
}

func (pr policyReader) rules(path string, v any, peersKey string) ([]policyRule, error) {
	list, err := pr.list(path, v)
	if err != nil {
		return nil, err
	}
	var out []policyRule
	for i, r := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		m, err := pr.fields(at, r, peersKey, "ports")
		if err != nil {
			return nil, err
		}
		var rule policyRule
		peers, err := pr.list(at+"."+peersKey, m[peersKey])
		if err != nil {
			return nil, err
		}
		for j, pe := range peers {
			p, err := pr.peer(fmt.Sprintf("%s.%s[%d]", at, peersKey, j), pe)
			if err != nil {
				return nil, err
			}
			rule.peers = append(rule.peers, p)
		}
		ports, err := pr.list(at+".ports", m["ports"])
		if err != nil {
			return nil, err
		}
		for j, po := range ports {
			p, err := pr.port(fmt.Sprintf("%s.ports[%d]", at, j), po)
			if err != nil {
				return nil, err
			}
			rule.ports = append(rule.ports, p)
		}
		out = append(out, rule)
	}
	return out, nil
}

// readPolicy reads a NetworkPolicy's registered spec, or refuses it.
func readPolicy(name, ns string, spec any) (netPolicy, error) {
	pr := policyReader{name}
	p := netPolicy{name: name, ns: ns}
	m, err := pr.fields("spec", spec, "podSelector", "policyTypes", "ingress", "egress")
	if err != nil {
		return p, err
	}
	sel, ok := m["podSelector"]
	if !ok {
		return p, pr.refuse("spec.podSelector", "required (the API server refuses a policy without it)")
	}
	if p.selector, err = pr.selector("spec.podSelector", sel); err != nil {
		return p, err
	}
	if p.ingress, err = pr.rules("spec.ingress", m["ingress"], "from"); err != nil {
		return p, err
	}
	if p.egress, err = pr.rules("spec.egress", m["egress"], "to"); err != nil {
		return p, err
	}
	types, err := pr.list("spec.policyTypes", m["policyTypes"])
	if err != nil {
		return p, err
	}
	for i, ty := range types {
		s := fmt.Sprint(ty)
		if s != "Ingress" && s != "Egress" {
			return p, pr.refuse(fmt.Sprintf("spec.policyTypes[%d]", i), "%q is not Ingress or Egress", s)
		}
		p.types = append(p.types, s)
	}
	if _, set := m["policyTypes"]; !set {
		// The API's default: Ingress always, Egress when the policy has egress rules.
		p.types = []string{"Ingress"}
		if len(p.egress) > 0 {
			p.types = append(p.types, "Egress")
		}
	}
	return p, nil
}

type traffic struct {
	policies   []netPolicy
	namespaces map[string]map[string]string // name -> labels, as the API server sets them
	pods       map[string]endpoint          // by the workload's Pulumi name
}

func trafficOf(t *testing.T, g *harness.Graph) traffic {
	t.Helper()
	tr, err := readTraffic(g)
	require.NoError(t, err)
	return tr
}

// readTraffic reads the graph's namespaces, policies and pods; it refuses a policy the
// evaluator cannot judge and a workload outside the stack's namespaces.
func readTraffic(g *harness.Graph) (traffic, error) {
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
		ns := np.String("metadata.namespace")
		if ns == "" {
			return tr, fmt.Errorf("NetworkPolicy %s: metadata.namespace: not set; the stack's policies are namespaced", np.Name)
		}
		p, err := readPolicy(np.Name, ns, np.Get("spec"))
		if err != nil {
			return tr, err
		}
		tr.policies = append(tr.policies, p)
	}
	for _, typ := range []string{typeDeployment, typeStatefulSet, "kubernetes:batch/v1:Job", typeCronJob} {
		for _, w := range g.OfType(typ) {
			ns := w.String("metadata.namespace")
			nsLabels, ok := tr.namespaces[ns]
			if !ok {
				return tr, fmt.Errorf("%s runs in %q, not a namespace of the stack", w.Name, ns)
			}
			template := "spec.template"
			if typ == typeCronJob {
				template = "spec.jobTemplate.spec.template"
			}
			labels := map[string]string{}
			for k, v := range w.Get(template + ".metadata.labels").(map[string]any) {
				labels[k] = fmt.Sprint(v)
			}
			tr.pods[w.Name] = endpoint{name: w.Name, ns: nsLabels, labels: labels}
		}
	}
	return tr, nil
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

// peerMatches: ipBlock peers match addresses outside the cluster only (as Cilium, GKE
// Dataplane V2's engine, applies them), selectors match pods.
func (p netPolicy) peerMatches(peer policyPeer, e endpoint) bool {
	if peer.block != nil {
		if !e.external.IsValid() || !peer.block.Contains(e.external) {
			return false
		}
		for _, x := range peer.except {
			if x.Contains(e.external) {
				return false
			}
		}
		return true
	}
	if e.external.IsValid() {
		return false
	}
	if peer.namespaces != nil {
		if !peer.namespaces.matches(e.ns) {
			return false
		}
	} else if e.ns["kubernetes.io/metadata.name"] != p.ns {
		return false
	}
	return peer.pods == nil || peer.pods.matches(e.labels)
}

func (r policyRule) portMatches(port int, proto string) bool {
	if len(r.ports) == 0 {
		return true
	}
	for _, p := range r.ports {
		if p.proto == proto && (p.from == 0 || (p.from <= port && port <= p.to)) {
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
		if p.ns != e.ns["kubernetes.io/metadata.name"] || !p.selector.matches(e.labels) || !slices.Contains(p.types, dir) {
			continue
		}
		selected = true
		rules := p.ingress
		if dir == "Egress" {
			rules = p.egress
		}
		for _, rule := range rules {
			if !rule.portMatches(port, proto) {
				continue
			}
			if len(rule.peers) == 0 {
				return true
			}
			for _, pe := range rule.peers {
				if p.peerMatches(pe, peer) {
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
				"cp": tr.pod(t, "apim-cp"), "gw": tr.pod(t, "apim-gw"),
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

			// The database: Cloud SQL's private address (dev, prod), which its schema Job
			// loads, or the in-cluster server (local), which its backup CronJob dumps.
			cloudSQL := stack != "local"
			dbJob := "backup"
			if cloudSQL {
				ends["db"] = external("10.40.0.3")
				ends["schema"] = tr.pod(t, "apim-mysql-schema")
				dbJob = "schema"
			} else {
				ends["db"] = tr.pod(t, "apim-mysql")
				ends["backup"] = tr.pod(t, "apim-mysql-backup")
			}

			allowed := []flow{
				{"edge", "gw", 8243}, {"edge", "gw", 8280}, {"edge", "gw", 9099}, {"edge", "cp", 9443}, {"edge", "dashboards", 5601},
				{"gw", "cp", 9443}, {"gw", "cp", 5672}, {"gw", "cp", 9611}, {"gw", "cp", 9711},
				{"cp", "gw", 9443}, {"cp", "db", 3306}, {"gw", "db", 3306},
				{"gw", "hello", 9090}, {"gw", "opensearch", 9200}, {"gw", "internet", 443},
				{"dashboards", "opensearch", 9200}, {"publisher", "cp", 9443},
				// The JDBC driver's download, by both servers' init containers; and the
				// publisher's endpoint test and import from a URL (apim.backendEgress).
				{"cp", "internet", 443}, {"cp", "internet", 80}, {"gw", "internet", 80},
				{dbJob, "db", 3306},
			}
			refused := []flow{
				{"edge", "db", 3306}, {"edge", "cp", 5672}, {"edge", "cp", 9763}, {"edge", "opensearch", 9200}, {"edge", "hello", 9090},
				{"stranger", "cp", 9443}, {"stranger", "gw", 8243}, {"stranger", "db", 3306}, {"stranger", "hello", 9090},
				{"hello", "db", 3306}, {"hello", "cp", 9443}, {"hello", "internet", 443},
				{"publisher", "db", 3306}, {"publisher", "gw", 8243}, {"publisher", "internet", 443},
				{"db", "internet", 443}, {"db", "cp", 9443}, {"opensearch", "internet", 443},
				{"dashboards", "db", 3306}, {"dashboards", "cp", 9443},
				{"cp", "db", 22}, {"gw", "internet", 22}, {"cp", "opensearch", 9200},
				{dbJob, "internet", 443}, {dbJob, "cp", 9443}, {dbJob, "db", 22}, {"edge", dbJob, 3306}, {"cp", dbJob, 3306},
			}
			if cloudSQL {
				// Nothing of the cluster guards Cloud SQL's side (the VPC, TLS and the password
				// do), nor what Cloud SQL itself calls. What the policies guard is who of the
				// namespace may call it.
				var kept []flow
				for _, f := range refused {
					if f.from != "db" && (f.to != "db" || (f.from != "edge" && f.from != "stranger")) {
						kept = append(kept, f)
					}
				}
				refused = kept
			} else {
				refused = append(refused, flow{"backup", "internet", 80})
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

// apim.backendEgress is what both API Manager workloads may call outside the cluster: narrowed
// to a backends' network, plain HTTP to the internet is refused to both (HTTPS stays: the JDBC
// driver's download).
func TestBackendEgressIsASetting(t *testing.T) {
	g := run(t, "prod", map[string]any{"apim.backendEgress": []any{map[string]any{"cidr": "10.20.0.0/16", "ports": []any{8443}}}})
	tr := trafficOf(t, g)
	backend := external("10.20.0.5")
	for _, pod := range []string{"apim-cp", "apim-gw"} {
		from := tr.pod(t, pod)
		assert.True(t, tr.allows(from, backend, 8443, "TCP"), "%s reaches the backends' network", pod)
		assert.False(t, tr.allows(from, backend, 8080, "TCP"), "%s: on the listed ports only", pod)
		assert.False(t, tr.allows(from, external("151.101.0.1"), 80, "TCP"), "%s: nothing else", pod)
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
				if p.ns != ns || !p.selector.empty() {
					continue
				}
				deny = deny || (slices.Contains(p.types, "Ingress") && slices.Contains(p.types, "Egress") && len(p.ingress) == 0 && len(p.egress) == 0)
				dns = dns || (slices.Contains(p.types, "Egress") && !slices.Contains(p.types, "Ingress"))
			}
			assert.True(t, deny, "%s: namespace %s denies by default", stack, ns)
			assert.True(t, dns, "%s: namespace %s allows DNS lookups", stack, ns)
		}
		for name, pod := range tr.pods {
			var own []string
			for _, p := range tr.policies {
				if p.ns == pod.ns["kubernetes.io/metadata.name"] && !p.selector.empty() && p.selector.matches(pod.labels) {
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
