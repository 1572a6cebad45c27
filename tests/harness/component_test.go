package harness

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder stands in for a test so that the set-up's own checks can be seen failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) FailNow() { runtime.Goexit() }

// checks runs f against a recorder, as the testing package runs a test (FailNow ends it), and
// returns what it reported.
func checks(t *testing.T, f func(tb testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.errors
}

type comp struct{ pulumi.ResourceState }

// component registers a component "c" with a ConfigMap "a" inside it (given the component's
// providers, or none with bare) and, with stray, a ConfigMap "b" beside it.
func component(bare, stray bool) func(ctx *pulumi.Context, providers pulumi.ResourceOption) error {
	return func(ctx *pulumi.Context, providers pulumi.ResourceOption) error {
		var c comp
		opts := []pulumi.ResourceOption{providers}
		if bare {
			opts = nil
		}
		if err := ctx.RegisterComponentResource("test:index:Comp", "c", &c, opts...); err != nil {
			return err
		}
		if _, err := corev1.NewConfigMap(ctx, "a", &corev1.ConfigMapArgs{}, pulumi.Parent(&c)); err != nil {
			return err
		}
		if stray {
			_, err := corev1.NewConfigMap(ctx, "b", &corev1.ConfigMapArgs{}, providers)
			return err
		}
		return nil
	}
}

func TestChildrenChecksParentAndProvider(t *testing.T) {
	g := MustRunComponent(t, Kubernetes, component(false, false))
	var got []string
	assert.Empty(t, checks(t, func(tb testing.TB) { got = Children(tb, g, "test:index:Comp") }))
	assert.Equal(t, []string{"kubernetes:core/v1:ConfigMap a"}, got)

	g = MustRunComponent(t, Kubernetes, component(false, true))
	assert.Len(t, checks(t, func(tb testing.TB) { Children(tb, g, "test:index:Comp") }), 1, "b is not the component's child")

	g = MustRunComponent(t, Kubernetes, component(true, false))
	assert.Len(t, checks(t, func(tb testing.TB) { Children(tb, g, "test:index:Comp") }), 1, "a uses the default provider")

	g = MustRunComponent(t, GCPAndKubernetes("p"), component(false, false))
	assert.Empty(t, checks(t, func(tb testing.TB) { Children(tb, g, "test:index:Comp") }), "both providers reach the component")
	assert.Equal(t, "p", g.Find("pulumi:providers:gcp", "gcp").Get("project"))
}

func TestRefusedChecksNothingWasRegistered(t *testing.T) {
	refuse := func(ctx *pulumi.Context, name string, registerFirst bool, _ ...pulumi.ResourceOption) (*comp, error) {
		if registerFirst {
			if _, err := corev1.NewConfigMap(ctx, "early", &corev1.ConfigMapArgs{}); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("comp %q: bad", name)
	}
	var err error
	assert.Empty(t, checks(t, func(tb testing.TB) { err = Refused(tb, refuse, "c", false) }))
	assert.EqualError(t, err, `comp "c": bad`, "the constructor's own error")
	reports := checks(t, func(tb testing.TB) { Refused(tb, refuse, "c", true) })
	require.Len(t, reports, 1)
	assert.True(t, strings.Contains(reports[0], "nothing registered"), reports[0])

	accept := func(ctx *pulumi.Context, name string, _ bool, _ ...pulumi.ResourceOption) (*comp, error) {
		return &comp{}, nil
	}
	require.NotEmpty(t, checks(t, func(tb testing.TB) { Refused(tb, accept, "c", false) }), "a constructor that accepts is not a refusal")
}
