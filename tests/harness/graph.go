package harness

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/wso2-k8s/apim-gke/policy/rules"
)

// Resource is one registration as the engine would have seen it.
type Resource struct {
	URN, Type, Name string
	// Parent is the parent's URN; empty for resources directly under the stack.
	Parent string
	// Provider is the explicit provider's URN; empty when the resource would get a default
	// provider.
	Provider string
	// Dependencies are the URNs this resource waits for (DependsOn and input dependencies).
	Dependencies        []string
	Custom              bool
	Protect             bool
	DeleteBeforeReplace bool
	IgnoreChanges       []string
	// AfterCreate names the resource hooks the engine runs once the resource is created,
	// before it reports it done to anything that waits for it.
	AfterCreate []string
	// Inputs are the registered inputs with secrets unwrapped; SecretPaths lists the dotted
	// paths whose values were marked secret.
	Inputs      map[string]any
	SecretPaths []string
	ID          string
	raw         resource.PropertyMap
}

// Get returns the input at a dotted path such as "spec.template.spec.containers.0.image",
// or nil when any step is missing.
func (r *Resource) Get(path string) any {
	// The policy rules read the graph with the same path syntax.
	return rules.Lookup(r.Inputs, path)
}

// Properties are the registered inputs as the engine received them: secrets and unknowns kept.
func (r *Resource) Properties() resource.PropertyMap { return r.raw.Copy() }

// String returns the input at path formatted with %v ("" when missing).
func (r *Resource) String(path string) string {
	v := r.Get(path)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// IsSecret reports whether the input at path (or one of its ancestors) was a secret.
func (r *Resource) IsSecret(path string) bool {
	for _, p := range r.SecretPaths {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// Graph is every resource a program registered, in registration order.
type Graph struct {
	mu        sync.Mutex
	resources []*Resource
	byURN     map[string]*Resource
}

// add records r, refusing a second resource with the same URN as the real engine does
// ("Duplicate resource URN"): two components that name children alike collide here too.
func (g *Graph) add(r *Resource) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byURN == nil {
		g.byURN = map[string]*Resource{}
	}
	if _, dup := g.byURN[r.URN]; dup {
		return fmt.Errorf("harness: duplicate resource URN %s", r.URN)
	}
	g.resources = append(g.resources, r)
	g.byURN[r.URN] = r
	return nil
}

// All returns every resource, sorted by URN so that output is stable.
func (g *Graph) All() []*Resource {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(g.resources)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// ByURN returns the resource with that URN, or nil.
func (g *Graph) ByURN(urn string) *Resource {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byURN[urn]
}

// OfType returns every resource of a type token, e.g. "kubernetes:apps/v1:Deployment".
func (g *Graph) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range g.All() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the one resource of that type and logical name, or nil.
func (g *Graph) Find(typ, name string) *Resource {
	for _, r := range g.All() {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	return nil
}

// WithPrefix returns every resource whose type token starts with prefix, e.g. "gcp:".
func (g *Graph) WithPrefix(prefix string) []*Resource {
	var out []*Resource
	for _, r := range g.All() {
		if strings.HasPrefix(r.Type, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// ParentOf returns r's parent, or nil for a top-level resource.
func (g *Graph) ParentOf(r *Resource) *Resource { return g.ByURN(r.Parent) }

// ProviderOf returns r's explicit provider resource, or nil.
func (g *Graph) ProviderOf(r *Resource) *Resource { return g.ByURN(r.Provider) }

// DependsOn reports whether r waits for target, directly or transitively: through its
// dependencies, its provider, and its ancestors' dependencies. Waiting for a component means
// waiting for everything inside it.
func (g *Graph) DependsOn(r, target *Resource) bool {
	seen := map[string]bool{}
	var waitsFor func(x *Resource) bool
	var reaches func(urn string) bool
	// reaches: does finishing urn require target to be finished?
	reaches = func(urn string) bool {
		if urn == target.URN {
			return true
		}
		if seen[urn] {
			return false
		}
		seen[urn] = true
		x := g.ByURN(urn)
		if x == nil {
			return false
		}
		if !x.Custom {
			for _, child := range g.childrenOf(urn) {
				if reaches(child.URN) {
					return true
				}
			}
		}
		return waitsFor(x)
	}
	// waitsFor: what must be done before x can start.
	waitsFor = func(x *Resource) bool {
		for _, d := range x.Dependencies {
			if reaches(d) {
				return true
			}
		}
		if x.Provider != "" && reaches(x.Provider) {
			return true
		}
		for p := g.ByURN(x.Parent); p != nil; p = g.ByURN(p.Parent) {
			for _, d := range p.Dependencies {
				if reaches(d) {
					return true
				}
			}
		}
		return false
	}
	return waitsFor(r)
}

func (g *Graph) childrenOf(urn string) []*Resource {
	var out []*Resource
	for _, r := range g.All() {
		if r.Parent == urn {
			out = append(out, r)
		}
	}
	return out
}

// Inventory lists "type name parent-type::parent-name" for every resource, sorted: the shape of
// the graph without its inputs, for golden files.
func (g *Graph) Inventory() []string {
	var lines []string
	for _, r := range g.All() {
		parent := "-"
		if p := g.ByURN(r.Parent); p != nil {
			parent = p.Type + "::" + p.Name
		}
		lines = append(lines, fmt.Sprintf("%s %s parent=%s", r.Type, r.Name, parent))
	}
	sort.Strings(lines)
	return lines
}
