package policy

import (
	"strings"

	"github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Env says what the graph is for.
type Env = rules.Env

// Violation is one rule broken by one resource (or one it could not judge).
type Violation = rules.Finding

// Rules are the invariants, as the policy pack runs them.
var Rules = rules.Rules

// ImageIsPinned reports whether an image names a version (a tag other than latest, or a
// digest).
func ImageIsPinned(image string) bool { return rules.ImageIsPinned(image) }

// Check runs every rule over a recorded graph and returns what they found, sorted. Mocks know
// every value, so a finding that a rule could not judge is reported too: it is a gap in the
// harness or a rule, and the tests treat it as a failure.
func Check(g *harness.Graph, env Env) []Violation {
	return rules.Check(Graph(g), env)
}

// Graph is the rules' view of a recorded graph.
func Graph(g *harness.Graph) rules.Graph { return graph{g} }

type graph struct{ g *harness.Graph }

func (g graph) All() []rules.Resource {
	var out []rules.Resource
	for _, r := range g.g.All() {
		out = append(out, resource{r: r, g: g.g})
	}
	return out
}

type resource struct {
	r *harness.Resource
	g *harness.Graph
}

func (x resource) Type() string           { return x.r.Type }
func (x resource) Name() string           { return x.r.Name }
func (x resource) URN() string            { return x.r.URN }
func (x resource) Custom() bool           { return x.r.Custom }
func (x resource) Protected() bool        { return x.r.Protect }
func (x resource) Get(path string) any    { return x.r.Get(path) }
func (x resource) IsSecret(p string) bool { return x.r.IsSecret(strings.Join(rules.SplitPath(p), ".")) }

// Provider is the explicit provider, or the default one the engine would make for a custom
// resource that names none.
func (x resource) Provider() rules.Provider {
	if p := x.g.ProviderOf(x.r); p != nil {
		return rules.Provider{Type: p.Type, Name: p.Name}
	}
	if !x.r.Custom {
		return rules.Provider{}
	}
	pkg, _, _ := strings.Cut(x.r.Type, ":")
	return rules.Provider{Type: "pulumi:providers:" + pkg, Name: "default", Default: true}
}
