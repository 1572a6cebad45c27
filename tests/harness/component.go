package harness

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A component's own tests run it as a program of its own (project "lib", stack "test", no
// config), with explicit providers so that they can check every child uses them. What
// follows is that set-up, once for every component package.

// Mocks says what a component run registers before the component, and how it runs.
type Mocks struct {
	// Kubernetes registers a kubernetes provider named "k8s".
	Kubernetes bool
	// GCP registers a gcp provider named "gcp", for GCPProject when that is set.
	GCP        bool
	GCPProject string
	// Up runs as `pulumi up` rather than as a preview (see Options.Up).
	Up bool
	// State models resources an earlier up stored (see Options.State).
	State map[string]map[string]any
}

// Kubernetes is the set-up of a component that creates Kubernetes objects only.
var Kubernetes = Mocks{Kubernetes: true}

// GCP is the set-up of a component that creates Google Cloud resources of project only.
func GCP(project string) Mocks { return Mocks{GCP: true, GCPProject: project} }

// GCPAndKubernetes is the set-up of a component that creates both.
func GCPAndKubernetes(project string) Mocks {
	return Mocks{Kubernetes: true, GCP: true, GCPProject: project}
}

// RunComponent registers the providers m names, then calls create with them as one resource
// option: pulumi.Provider for one (as a caller passing its only provider would), pulumi.Providers
// for both (gcp first), and no option for none.
func RunComponent(m Mocks, create func(ctx *pulumi.Context, providers pulumi.ResourceOption) error) (*Graph, error) {
	program := func(ctx *pulumi.Context) error {
		var provs []pulumi.ProviderResource
		if m.GCP {
			args := &gcp.ProviderArgs{}
			if m.GCPProject != "" {
				args.Project = pulumi.String(m.GCPProject)
			}
			p, err := gcp.NewProvider(ctx, "gcp", args)
			if err != nil {
				return err
			}
			provs = append(provs, p)
		}
		if m.Kubernetes {
			p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
			if err != nil {
				return err
			}
			provs = append(provs, p)
		}
		var opt pulumi.ResourceOption = pulumi.Composite()
		switch len(provs) {
		case 1:
			opt = pulumi.Provider(provs[0])
		case 2:
			opt = pulumi.Providers(provs...)
		}
		return create(ctx, opt)
	}
	return RunWithConfig(program, "lib", "test", map[string]any{}, Options{Up: m.Up, State: m.State})
}

// MustRunComponent is RunComponent for a run that must succeed.
func MustRunComponent(t testing.TB, m Mocks, create func(ctx *pulumi.Context, providers pulumi.ResourceOption) error) *Graph {
	t.Helper()
	g, err := RunComponent(m, create)
	require.NoError(t, err)
	return g
}

// Constructor is a component's New function.
type Constructor[A, C any] func(ctx *pulumi.Context, name string, args A, opts ...pulumi.ResourceOption) (C, error)

// TryConstruct runs newC(name, args) under m and returns the graph, the component and the
// constructor's own error (not the engine's wrapping of it); when the constructor succeeded,
// the run's error.
func TryConstruct[A, C any](m Mocks, newC Constructor[A, C], name string, args A) (*Graph, C, error) {
	var c C
	var newErr error
	g, err := RunComponent(m, func(ctx *pulumi.Context, providers pulumi.ResourceOption) error {
		c, newErr = newC(ctx, name, args, providers)
		return newErr
	})
	if newErr != nil {
		return g, c, newErr
	}
	return g, c, err
}

// Construct is TryConstruct for a run that must succeed.
func Construct[A, C any](t testing.TB, m Mocks, newC Constructor[A, C], name string, args A) (*Graph, C) {
	t.Helper()
	g, c, err := TryConstruct(m, newC, name, args)
	require.NoError(t, err)
	return g, c
}

// Refused runs newC(name, args) with no provider, checks that the run failed having registered
// nothing (bad input is refused before any resource), and returns the constructor's own error.
func Refused[A, C any](t testing.TB, newC Constructor[A, C], name string, args A) error {
	t.Helper()
	return RefusedBy(t, func(ctx *pulumi.Context) error {
		_, err := newC(ctx, name, args)
		return err
	})
}

// RefusedBy is Refused for a program of its own: create's error is returned.
func RefusedBy(t testing.TB, create func(ctx *pulumi.Context) error) error {
	t.Helper()
	var newErr error
	g, err := RunComponent(Mocks{}, func(ctx *pulumi.Context, _ pulumi.ResourceOption) error {
		newErr = create(ctx)
		return newErr
	})
	require.Error(t, err)
	assert.Empty(t, g.All(), "nothing registered")
	return newErr
}

// Children returns every resource of g as "type name", but for the one component of type
// compType and the providers RunComponent registered; it checks that each is the component's
// child and that each custom resource uses the explicit provider of its package (but for a
// provider the component makes itself, which has none).
func Children(t testing.TB, g *Graph, compType string) []string {
	t.Helper()
	comp := g.OfType(compType)
	require.Len(t, comp, 1)
	provs := map[string]*Resource{}
	for _, p := range []*Resource{g.Find("pulumi:providers:gcp", "gcp"), g.Find("pulumi:providers:kubernetes", "k8s")} {
		if p != nil && p.Parent == "" {
			provs[strings.TrimPrefix(p.Type, "pulumi:providers:")] = p
		}
	}
	require.NotEmpty(t, provs, "the run registered an explicit provider")
	var out []string
	for _, r := range g.All() {
		if r == comp[0] || (r.Parent == "" && provs[strings.TrimPrefix(r.Type, "pulumi:providers:")] == r) {
			continue
		}
		out = append(out, r.Type+" "+r.Name)
		assert.Equal(t, comp[0].URN, r.Parent, "%s %s is the component's child", r.Type, r.Name)
		if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			pkg := r.Type[:strings.Index(r.Type, ":")]
			require.NotNil(t, provs[pkg], "an explicit provider for %s", r.Type)
			assert.Equal(t, provs[pkg].URN, r.Provider, "%s %s uses the explicit %s provider", r.Type, r.Name, pkg)
		}
	}
	return out
}

// Refusal is one bad input to a constructor and the exact error it must answer with. An
// alias of an unnamed struct, so that tables can list cases positionally ({name, args, want})
// without vet's composites check objecting to unkeyed fields of another package's type.
type Refusal[A any] = struct {
	Name string
	Args A
	Want string
}

// ExpectRefusals runs each case as a subtest: newC(name, Args) is refused with exactly Want,
// before registering anything.
func ExpectRefusals[A, C any](t *testing.T, newC Constructor[A, C], name string, cases []Refusal[A]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			err := Refused(t, newC, name, c.Args)
			require.Error(t, err)
			assert.EqualError(t, err, c.Want)
		})
	}
}

// Env returns the environment of the container at path (e.g. "spec.template.spec.containers.0")
// as name → value, "secret:<name>/<key>" for a Secret reference, or "field" for another
// reference; the container must have one.
func Env(t testing.TB, r *Resource, container string) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, _ := r.Get(container + ".env").([]any)
	require.NotEmpty(t, list, "%s %s: %s has an environment", r.Type, r.Name, container)
	for _, e := range list {
		m := e.(map[string]any)
		name := m["name"].(string)
		switch {
		case m["value"] != nil:
			out[name] = m["value"].(string)
		case m["valueFrom"] != nil:
			if ref, ok := m["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any); ok {
				out[name] = "secret:" + ref["name"].(string) + "/" + ref["key"].(string)
			} else {
				out[name] = "field"
			}
		}
	}
	return out
}

// Validation is one case of a Validate table: a value and the one problem it must report ("" for
// none). An alias, as Refusal is, so that tables list cases positionally.
type Validation[A any] = struct {
	Name string
	Args A
	Want string
}

// ExpectProblems runs each case as a subtest: validate(Args) reports no problem when Want is "",
// else Want and nothing more.
func ExpectProblems[A any](t *testing.T, validate func(A) []string, cases []Validation[A]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			p := validate(c.Args)
			if c.Want == "" {
				assert.Empty(t, p)
				return
			}
			assert.Contains(t, p, c.Want)
			assert.Len(t, p, 1, "one problem only: %v", p)
		})
	}
}

// InitContainer returns the path of a workload's pod init container named name (e.g.
// "spec.template.spec.initContainers.1"); the pod must have one.
func InitContainer(t testing.TB, r *Resource, name string) string {
	t.Helper()
	list, _ := r.Get("spec.template.spec.initContainers").([]any)
	for i, c := range list {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			return fmt.Sprintf("spec.template.spec.initContainers.%d", i)
		}
	}
	require.Failf(t, "no init container", "%s %s has no init container %s", r.Type, r.Name, name)
	return ""
}
