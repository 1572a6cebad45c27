package rules_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wso2-k8s/apim-gke/policy/rules"
)

// fake is a resource held as plain maps, for the rules' own tests.
type fake struct {
	typ, name string
	protect   bool
	props     map[string]any
}

func (f fake) Type() string         { return f.typ }
func (f fake) Name() string         { return f.name }
func (f fake) URN() string          { return f.typ + "::" + f.name }
func (f fake) Custom() bool         { return true }
func (f fake) Protected() bool      { return f.protect }
func (f fake) Get(path string) any  { return rules.Lookup(f.props, path) }
func (f fake) IsSecret(string) bool { return true }
func (f fake) Provider() rules.Provider {
	return rules.Provider{Type: "pulumi:providers:kubernetes", Name: "k8s"}
}

type graph []rules.Resource

func (g graph) All() []rules.Resource { return g }

func run(name string, env rules.Env, rs ...rules.Resource) []string {
	var out []string
	for _, r := range rules.Rules {
		if r.Name == name {
			for _, f := range r.Run(graph(rs), env) {
				out = append(out, f.String())
			}
		}
	}
	return out
}

func m(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestLookupStopsAtUnknown(t *testing.T) {
	tree := m("a", m("b", rules.Unknown), "l", []any{m("x", 1.0)})
	assert.Equal(t, rules.Unknown, rules.Lookup(tree, "a.b.c.d"))
	assert.Equal(t, 1.0, rules.Lookup(tree, "l.0.x"))
	assert.Nil(t, rules.Lookup(tree, "l.1.x"))
	assert.True(t, rules.IsUnknown(tree))
	assert.False(t, rules.IsUnknown(tree["l"]))
	assert.Equal(t, []string{"metadata", "labels", "app.kubernetes.io/name"}, rules.SplitPath("metadata.labels[app.kubernetes.io/name]"))
}

func rolling(maxUnavailable any) fake {
	return fake{typ: "kubernetes:apps/v1:Deployment", name: "web", props: m(
		"metadata", m("namespace", "ns"),
		"spec", m("strategy", m("type", "RollingUpdate", "rollingUpdate", m("maxUnavailable", maxUnavailable)),
			"template", m("metadata", m("labels", m("app", "web")))))}
}

func service(selector any) fake {
	return fake{typ: "kubernetes:core/v1:Service", name: "web", props: m("metadata", m("namespace", "ns"), "spec", m("selector", selector))}
}

func TestZeroDowntimeRolloutWaitsForWhatItNeeds(t *testing.T) {
	const rule = "zero-downtime-rollout"
	assert.Equal(t, []string{`zero-downtime-rollout: kubernetes:apps/v1:Deployment web: serves traffic but maxUnavailable is "1"; want 0`},
		run(rule, rules.Env{}, rolling(1.0), service(m("app", "web"))))
	assert.Empty(t, run(rule, rules.Env{}, rolling(1.0), service(m("app", "other"))), "not served: free to roll as it likes")
	assert.Equal(t, []string{`zero-downtime-rollout: cannot judge: kubernetes:apps/v1:Deployment web: maxUnavailable is "1"; want 0, and whether a Service sends it traffic is not known until the change is applied`},
		run(rule, rules.Env{}, rolling(1.0), service(rules.Unknown)))
	assert.Empty(t, run(rule, rules.Env{}, rolling(0.0), service(rules.Unknown)), "compliant whoever serves it")
	assert.Equal(t, []string{"zero-downtime-rollout: cannot judge: kubernetes:apps/v1:Deployment web: spec.strategy is not known until the change is applied"},
		run(rule, rules.Env{}, rolling(rules.Unknown), service(m("app", "web"))))
}

func TestProtectedStateWithUnknownNames(t *testing.T) {
	const rule = "protected-state"
	claim := fake{typ: "kubernetes:core/v1:PersistentVolumeClaim", name: "data", protect: true, props: m("metadata", m("namespace", rules.Unknown))}
	ns := fake{typ: "kubernetes:core/v1:Namespace", name: "ns", props: m("metadata", m("name", "ns"))}
	assert.Equal(t, []string{"protected-state: cannot judge: kubernetes:core/v1:Namespace ns: is not protected, and the namespace of kubernetes:core/v1:PersistentVolumeClaim data's claims is not known until the change is applied"},
		run(rule, rules.Env{Production: true}, claim, ns))
	claim.props = m("metadata", m("namespace", "ns"))
	assert.Equal(t, []string{"protected-state: kubernetes:core/v1:Namespace ns: deleting it deletes the claims of kubernetes:core/v1:PersistentVolumeClaim data, but it is not protected"},
		run(rule, rules.Env{Production: true}, claim, ns))
	assert.Empty(t, run(rule, rules.Env{}, claim, ns), "production only")
}

func TestHPABoundsWithUnknownReplicas(t *testing.T) {
	hpa := fake{typ: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", name: "gw", props: m("spec", m("minReplicas", 2.0, "maxReplicas", rules.Unknown, "metrics", []any{m("type", "Resource")}))}
	assert.Equal(t, []string{"hpa-bounds: cannot judge: kubernetes:autoscaling/v2:HorizontalPodAutoscaler gw: spec.maxReplicas is not known until the change is applied"},
		run("hpa-bounds", rules.Env{}, hpa))
}

func TestRestrictedPodsWaitForTheNamespaceLevel(t *testing.T) {
	job := fake{typ: "kubernetes:batch/v1:Job", name: "chown", props: m("metadata", m("namespace", "files"),
		"spec", m("template", m("spec", m("containers", []any{m("name", "chown", "securityContext", m("runAsUser", 0.0))}))))}
	ns := func(level any) fake {
		return fake{typ: "kubernetes:core/v1:Namespace", name: "files", props: m("metadata", m("name", "files", "labels", m("pod-security.kubernetes.io/enforce", level)))}
	}
	assert.Empty(t, run("restricted-pods", rules.Env{}, job, ns("baseline")), "exempt")
	assert.Contains(t, run("restricted-pods", rules.Env{}, job, ns("restricted")), "restricted-pods: kubernetes:batch/v1:Job chown: container chown allows privilege escalation")
	assert.Contains(t, run("restricted-pods", rules.Env{}, job, ns(rules.Unknown)),
		"restricted-pods: cannot judge: kubernetes:batch/v1:Job chown: container chown allows privilege escalation, and its namespace's Pod Security level is not known until the change is applied")
}

func TestVPCRangesWithAnUnknownRange(t *testing.T) {
	subnet := fake{typ: "gcp:compute/subnetwork:Subnetwork", name: "nodes", props: m("ipCidrRange", "10.10.0.0/20", "secondaryIpRanges", []any{m("rangeName", "pods", "ipCidrRange", rules.Unknown)})}
	assert.Equal(t, []string{"vpc-ranges-disjoint: cannot judge: whether gcp:compute/subnetwork:Subnetwork nodes secondary range pods overlap the other ranges: not known until the change is applied"},
		run("vpc-ranges-disjoint", rules.Env{}, subnet))
}

func TestEveryRuleHasALevelAndSafetyRulesAreMandatory(t *testing.T) {
	levels := map[string]rules.Enforcement{}
	for _, r := range rules.Rules {
		levels[r.Name] = r.Enforcement
	}
	for _, name := range []string{"protected-state", "no-plaintext-secrets", "restricted-pods", "explicit-provider", "pinned-images"} {
		assert.Equal(t, rules.Mandatory, levels[name], name)
	}
	for _, name := range []string{"standard-labels", "hpa-bounds", "resources-and-probes"} {
		assert.Equal(t, rules.Advisory, levels[name], name)
	}
}
