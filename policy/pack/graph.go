package pack

import (
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/wso2-k8s/apim-gke/policy/rules"
)

// Graph is the rules' view of the resources the engine hands a stack policy.
func Graph(resources []policyx.AnalyzerResource) rules.Graph {
	g := graph{}
	for _, r := range resources {
		g = append(g, newResource(r))
	}
	slices.SortFunc(g, func(a, b rules.Resource) int { return strings.Compare(a.URN(), b.URN()) })
	return g
}

type graph []rules.Resource

func (g graph) All() []rules.Resource { return slices.Clone(g) }

type resource struct {
	r       policyx.AnalyzerResource
	props   map[string]any
	secrets [][]string
}

func newResource(r policyx.AnalyzerResource) *resource {
	x := &resource{r: r}
	x.props, _ = x.plain(nil, property.New(r.Properties)).(map[string]any)
	return x
}

// plain turns engine values into the maps, lists and scalars the rules read, keeping unknown
// values as rules.Unknown and noting where the secrets are.
func (x *resource) plain(path []string, v property.Value) any {
	if v.Secret() {
		x.secrets = append(x.secrets, slices.Clone(path))
	}
	switch {
	case v.IsComputed():
		return rules.Unknown
	case v.IsMap():
		out := map[string]any{}
		for k, e := range v.AsMap().All {
			out[k] = x.plain(append(slices.Clone(path), k), e)
		}
		return out
	case v.IsArray():
		out := []any{}
		for i, e := range v.AsArray().All {
			out = append(out, x.plain(append(slices.Clone(path), strconv.Itoa(i)), e))
		}
		return out
	case v.IsString():
		return v.AsString()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsBool():
		return v.AsBool()
	case v.IsResourceReference():
		return string(v.AsResourceReference().URN)
	default:
		return nil
	}
}

func (x *resource) Type() string        { return x.r.Type }
func (x *resource) Name() string        { return x.r.Name }
func (x *resource) URN() string         { return x.r.URN }
func (x *resource) Protected() bool     { return x.r.Options.Protect }
func (x *resource) Get(path string) any { return rules.Lookup(x.props, path) }

// Custom: the engine hands a provider only with custom resources (and with components a
// provider constructs, whose packages no rule about providers looks at).
func (x *resource) Custom() bool { return x.r.Provider.URN != "" }

func (x *resource) IsSecret(path string) bool {
	steps := rules.SplitPath(path)
	for _, s := range x.secrets {
		if len(s) <= len(steps) && slices.Equal(s, steps[:len(s)]) {
			return true
		}
	}
	return false
}

// Provider: the engine names the providers it makes for resources that name none "default"
// or "default_<version>".
func (x *resource) Provider() rules.Provider {
	p := x.r.Provider
	if p.URN == "" {
		return rules.Provider{}
	}
	return rules.Provider{Type: p.Type, Name: p.Name, Default: p.Name == "default" || strings.HasPrefix(p.Name, "default_")}
}
