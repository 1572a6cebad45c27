package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The NetworkPolicy evaluator itself: fed policies as the engine would receive them (untyped,
// so that any field of the API can be written), it judges the constructs it models as a
// policy-enforcing CNI would, and refuses every other one by name.

type anyMap = map[string]any

// policyGraph registers each spec as a NetworkPolicy of namespace "apps" (named p0, p1, ...).
func policyGraph(t *testing.T, specs ...anyMap) *harness.Graph {
	t.Helper()
	g := harness.MustRunComponent(t, harness.Mocks{}, func(ctx *pulumi.Context, _ pulumi.ResourceOption) error {
		for i, spec := range specs {
			var res pulumi.CustomResourceState
			name := "p" + string(rune('0'+i))
			if err := ctx.RegisterResource(harness.TypeNetworkPolicy, name, pulumi.ToMap(anyMap{
				"metadata": anyMap{"name": name, "namespace": "apps"},
				"spec":     spec,
			}), &res); err != nil {
				return err
			}
		}
		return nil
	})
	require.Len(t, g.OfType(harness.TypeNetworkPolicy), len(specs))
	return g
}

// ingressTo is a policy for the pods labelled app=api that admits from peers on ports.
func ingressTo(peers, ports []any) anyMap {
	rule := anyMap{}
	if peers != nil {
		rule["from"] = peers
	}
	if ports != nil {
		rule["ports"] = ports
	}
	return anyMap{
		"podSelector": anyMap{"matchLabels": anyMap{"app": "api"}},
		"policyTypes": []any{"Ingress"},
		"ingress":     []any{rule},
	}
}

func pod(ns map[string]string, labels map[string]string) endpoint {
	return endpoint{name: ns["kubernetes.io/metadata.name"] + "/" + labels["app"], ns: ns, labels: labels}
}

func nsLabels(name string, extra ...string) map[string]string {
	l := map[string]string{"kubernetes.io/metadata.name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

func TestNetworkPolicyEvaluatorRefusesWhatItDoesNotModel(t *testing.T) {
	tcp := func(port any) []any { return []any{anyMap{"protocol": "TCP", "port": port}} }
	web := []any{anyMap{"podSelector": anyMap{"matchLabels": anyMap{"app": "web"}}}}
	cases := []struct {
		name string
		spec anyMap
		want string
	}{
		{"named port", ingressTo(web, tcp("https")),
			`NetworkPolicy p0: spec.ingress[0].ports[0].port: named port "https"; the test's evaluator does not model it, so it cannot judge this policy`},
		{"matchExpressions operator outside the API", ingressTo([]any{anyMap{"podSelector": anyMap{
			"matchExpressions": []any{anyMap{"key": "tier", "operator": "Gt", "values": []any{"1"}}}}}}, nil),
			`NetworkPolicy p0: spec.ingress[0].from[0].podSelector.matchExpressions[0].operator: operator "Gt" is not one of In, NotIn, Exists, DoesNotExist; the test's evaluator does not model it, so it cannot judge this policy`},
		{"unknown peer field", ingressTo([]any{anyMap{"serviceSelector": anyMap{}}}, nil),
			`NetworkPolicy p0: spec.ingress[0].from[0].serviceSelector: field not modelled (modelled: podSelector, namespaceSelector, ipBlock); the test's evaluator does not model it, so it cannot judge this policy`},
		{"unknown port field", ingressTo(web, []any{anyMap{"port": 80, "portRange": "80-90"}}),
			`NetworkPolicy p0: spec.ingress[0].ports[0].portRange: field not modelled (modelled: port, protocol, endPort); the test's evaluator does not model it, so it cannot judge this policy`},
		{"endPort without a port", ingressTo(web, []any{anyMap{"endPort": 90}}),
			`NetworkPolicy p0: spec.ingress[0].ports[0].endPort: 90 needs a numeric port no greater than it (the API server refuses it); the test's evaluator does not model it, so it cannot judge this policy`},
		{"unknown spec field", anyMap{"podSelector": anyMap{}, "priority": 1},
			`NetworkPolicy p0: spec.priority: field not modelled (modelled: podSelector, policyTypes, ingress, egress); the test's evaluator does not model it, so it cannot judge this policy`},
		{"ipBlock with a selector", ingressTo([]any{anyMap{"ipBlock": anyMap{"cidr": "10.0.0.0/8"}, "podSelector": anyMap{}}}, nil),
			`NetworkPolicy p0: spec.ingress[0].from[0]: ipBlock goes alone (the API server refuses it with a selector); the test's evaluator does not model it, so it cannot judge this policy`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readTraffic(policyGraph(t, c.spec))
			require.Error(t, err)
			assert.EqualError(t, err, c.want)
		})
	}
}

// The constructs the evaluator once ignored (matchExpressions, ipBlock.except, endPort) or
// crashed on (a namespaceSelector without matchLabels) now get the verdict Kubernetes gives.
func TestNetworkPolicyEvaluatorJudgesEachModelledConstruct(t *testing.T) {
	apps := nsLabels("apps")
	api := pod(apps, map[string]string{"app": "api"})
	judge := func(t *testing.T, spec anyMap) traffic {
		t.Helper()
		tr, err := readTraffic(policyGraph(t, spec))
		require.NoError(t, err)
		return tr
	}

	t.Run("matchExpressions", func(t *testing.T) {
		tr := judge(t, ingressTo([]any{anyMap{"podSelector": anyMap{"matchExpressions": []any{
			anyMap{"key": "app", "operator": "In", "values": []any{"web", "cli"}},
			anyMap{"key": "tier", "operator": "NotIn", "values": []any{"test"}},
			anyMap{"key": "team", "operator": "Exists"},
			anyMap{"key": "legacy", "operator": "DoesNotExist"},
		}}}}, nil))
		ok := map[string]string{"app": "web", "team": "a"}
		assert.True(t, tr.allows(pod(apps, ok), api, 80, "TCP"))
		assert.True(t, tr.allows(pod(apps, map[string]string{"app": "cli", "team": "a", "tier": "prod"}), api, 80, "TCP"))
		for why, labels := range map[string]map[string]string{
			"In":           {"app": "db", "team": "a"},
			"NotIn":        {"app": "web", "team": "a", "tier": "test"},
			"Exists":       {"app": "web"},
			"DoesNotExist": {"app": "web", "team": "a", "legacy": "yes"},
		} {
			assert.False(t, tr.allows(pod(apps, labels), api, 80, "TCP"), "%s refuses %v", why, labels)
		}
	})

	t.Run("matchExpressions in the policy's own podSelector", func(t *testing.T) {
		tr := judge(t, anyMap{
			"podSelector": anyMap{"matchExpressions": []any{anyMap{"key": "app", "operator": "In", "values": []any{"api"}}}},
			"policyTypes": []any{"Ingress"},
		})
		stranger := pod(nsLabels("team-x"), map[string]string{"app": "web"})
		assert.False(t, tr.allows(stranger, api, 80, "TCP"), "api is selected, so isolated")
		assert.True(t, tr.allows(stranger, pod(apps, map[string]string{"app": "web"}), 80, "TCP"), "web is not selected")
	})

	t.Run("namespaceSelector without matchLabels", func(t *testing.T) {
		empty := judge(t, ingressTo([]any{anyMap{"namespaceSelector": anyMap{}}}, nil))
		assert.True(t, empty.allows(pod(nsLabels("team-x"), map[string]string{"app": "web"}), api, 80, "TCP"), "{} selects every namespace")
		assert.False(t, empty.allows(external("151.101.0.1"), api, 80, "TCP"), "but no address outside the cluster")

		exprs := judge(t, ingressTo([]any{anyMap{
			"namespaceSelector": anyMap{"matchExpressions": []any{anyMap{"key": "env", "operator": "In", "values": []any{"prod"}}}},
			"podSelector":       anyMap{"matchLabels": anyMap{"app": "web"}},
		}}, nil))
		assert.True(t, exprs.allows(pod(nsLabels("shop", "env", "prod"), map[string]string{"app": "web"}), api, 80, "TCP"))
		assert.False(t, exprs.allows(pod(nsLabels("shop", "env", "dev"), map[string]string{"app": "web"}), api, 80, "TCP"), "namespace not selected")
		assert.False(t, exprs.allows(pod(nsLabels("shop", "env", "prod"), map[string]string{"app": "cli"}), api, 80, "TCP"), "pod not selected")
		assert.False(t, exprs.allows(pod(apps, map[string]string{"app": "web"}), api, 80, "TCP"), "the policy's own namespace is not implied")
	})

	t.Run("ipBlock.except", func(t *testing.T) {
		tr := judge(t, ingressTo([]any{anyMap{"ipBlock": anyMap{"cidr": "10.0.0.0/8", "except": []any{"10.1.0.0/16", "10.2.3.4/32"}}}}, nil))
		assert.True(t, tr.allows(external("10.9.0.1"), api, 80, "TCP"))
		assert.False(t, tr.allows(external("10.1.200.1"), api, 80, "TCP"), "in an excepted range")
		assert.False(t, tr.allows(external("10.2.3.4"), api, 80, "TCP"), "the excepted address")
		assert.True(t, tr.allows(external("10.2.3.5"), api, 80, "TCP"))
		assert.False(t, tr.allows(external("11.0.0.1"), api, 80, "TCP"), "outside the cidr")
	})

	t.Run("endPort", func(t *testing.T) {
		tr := judge(t, ingressTo(nil, []any{anyMap{"protocol": "TCP", "port": 8000, "endPort": 8100}}))
		from := pod(apps, map[string]string{"app": "web"})
		for _, p := range []int{8000, 8050, 8100} {
			assert.True(t, tr.allows(from, api, p, "TCP"), "%d is in 8000-8100", p)
		}
		for _, p := range []int{7999, 8101} {
			assert.False(t, tr.allows(from, api, p, "TCP"), "%d is outside 8000-8100", p)
		}
		assert.False(t, tr.allows(from, api, 8050, "UDP"), "TCP only")
	})

	t.Run("a port's defaults", func(t *testing.T) {
		tr := judge(t, ingressTo(nil, []any{anyMap{"port": 443}, anyMap{"protocol": "UDP"}}))
		from := pod(apps, map[string]string{"app": "web"})
		assert.True(t, tr.allows(from, api, 443, "TCP"), "protocol defaults to TCP")
		assert.False(t, tr.allows(from, api, 443, "SCTP"))
		assert.True(t, tr.allows(from, api, 5353, "UDP"), "no port: every port of the protocol")
		assert.False(t, tr.allows(from, api, 80, "TCP"))
	})

	t.Run("policyTypes' default", func(t *testing.T) {
		tr := judge(t, anyMap{
			"podSelector": anyMap{"matchLabels": anyMap{"app": "api"}},
			"egress":      []any{anyMap{"ports": []any{anyMap{"port": 53, "protocol": "UDP"}}}},
		})
		dns := pod(nsLabels("kube-system"), map[string]string{"k8s-app": "kube-dns"})
		assert.False(t, tr.allows(pod(apps, map[string]string{"app": "web"}), api, 80, "TCP"), "Ingress is always a type")
		assert.True(t, tr.allows(api, dns, 53, "UDP"), "egress rules make Egress a type")
		assert.False(t, tr.allows(api, dns, 53, "TCP"))
	})
}
