package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Resource is one resource as the rules see it: what both runners can fill.
type Resource interface {
	// Type is the type token (kubernetes:apps/v1:Deployment), Name the logical name and URN the
	// engine's.
	Type() string
	Name() string
	URN() string
	// Custom is false for component resources.
	Custom() bool
	// Protected is the protect resource option.
	Protected() bool
	// Get returns the property at a dotted path such as "spec.template.spec.containers.0.image"
	// (keys with dots in brackets: "metadata.labels[app.kubernetes.io/name]"): nil when absent,
	// Unknown when the engine computes it only on apply.
	Get(path string) any
	// IsSecret reports whether the property at path, or one of its ancestors, is a secret.
	IsSecret(path string) bool
	// Provider is the provider the resource is managed by (zero for components).
	Provider() Provider
}

// Provider names a resource's provider.
type Provider struct {
	// Type is the provider's type token, e.g. pulumi:providers:kubernetes.
	Type string
	// Name is its logical name.
	Name string
	// Default marks the provider the engine makes when a resource names none: it takes its
	// credentials and context from the environment of whoever runs Pulumi.
	Default bool
}

// Graph is every resource of one deployment.
type Graph interface {
	// All returns every resource, sorted by URN.
	All() []Resource
}

type unknownValue struct{}

func (unknownValue) String() string { return "<unknown>" }

// Unknown is the value of a property that the engine computes only when it applies the change
// (an output of a resource still to be created, at preview).
var Unknown any = unknownValue{}

// IsUnknown reports whether v is, or contains, Unknown.
func IsUnknown(v any) bool {
	switch x := v.(type) {
	case unknownValue:
		return true
	case map[string]any:
		for _, e := range x {
			if IsUnknown(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if IsUnknown(e) {
				return true
			}
		}
	}
	return false
}

// Lookup returns the value at a dotted path in a tree of maps and lists (the path syntax of
// Resource.Get): nil when a step is missing, Unknown when a step is unknown.
func Lookup(v any, path string) any {
	for _, step := range SplitPath(path) {
		switch x := v.(type) {
		case unknownValue:
			return Unknown
		case map[string]any:
			v = x[step]
		case []any:
			i := -1
			if _, err := fmt.Sscan(step, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// SplitPath splits "a.b[c.d/e].0" into a, b, c.d/e, 0.
func SplitPath(path string) []string {
	var steps []string
	for path != "" {
		switch {
		case path[0] == '.':
			path = path[1:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return append(steps, path[1:])
			}
			steps = append(steps, path[1:end])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				return append(steps, path)
			}
			steps = append(steps, path[:end])
			path = path[end:]
		}
	}
	return steps
}

func ofType(g Graph, typ string) []Resource {
	var out []Resource
	for _, r := range g.All() {
		if r.Type() == typ {
			out = append(out, r)
		}
	}
	return out
}

func withPrefix(g Graph, prefix string) []Resource {
	var out []Resource
	for _, r := range g.All() {
		if strings.HasPrefix(r.Type(), prefix) {
			out = append(out, r)
		}
	}
	return out
}

func id(r Resource) string { return r.Type() + " " + r.Name() }

// text is a property as text: "" when absent (callers check IsUnknown first).
func text(r Resource, path string) string {
	v := r.Get(path)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// str is the value at path inside a map as text ("" when absent).
func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
