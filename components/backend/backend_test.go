package backend_test

import (
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeBackend    = "wso2apim:backend:Backend"
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typeService    = "kubernetes:core/v1:Service"
	typePDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	typeNetPol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
)

func intp(v int) *int { return &v }

func run(t *testing.T, args *backend.Args) (*harness.Graph, *backend.Backend) {
	t.Helper()
	var b *backend.Backend
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		b, err = backend.NewBackend(ctx, "be", args, pulumi.Provider(k8s))
		return err
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	return g, b
}

func children(t *testing.T, g *harness.Graph) []string {
	t.Helper()
	comp := g.OfType(typeBackend)
	require.Len(t, comp, 1)
	prov := g.Find("pulumi:providers:kubernetes", "k8s")
	require.NotNil(t, prov)
	var out []string
	for _, r := range g.All() {
		if r == comp[0] || r == prov {
			continue
		}
		out = append(out, r.Type+" "+r.Name)
		assert.Equal(t, comp[0].URN, r.Parent, "%s %s is the component's child", r.Type, r.Name)
		if r.Custom {
			assert.Equal(t, prov.URN, r.Provider, "%s %s uses the explicit provider", r.Type, r.Name)
		}
	}
	return out
}

func TestBackendAlone(t *testing.T) {
	g, b := run(t, &backend.Args{Namespace: pulumi.String("apps")})
	assert.ElementsMatch(t, []string{typeDeployment + " be", typeService + " be", typePDB + " be", typeNetPol + " be"}, children(t, g))
	assert.Equal(t, "http://hello:9090/kuberneteshello", b.URL)

	dep := g.Find(typeDeployment, "be")
	assert.Equal(t, "hello", dep.Get("metadata.name"), "default name")
	assert.Equal(t, "apps", dep.Get("metadata.namespace"))
	assert.Equal(t, 2.0, dep.Get("spec.replicas"), "default: survives a node drain")
	assert.Equal(t, 5.0, dep.Get("spec.minReadySeconds"))
	assert.Equal(t, "RollingUpdate", dep.Get("spec.strategy.type"))
	assert.Equal(t, map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}, dep.Get("spec.strategy.rollingUpdate"))
	c := "spec.template.spec.containers.0."
	assert.Equal(t, "hashicorp/http-echo:1.0.0", dep.Get(c+"image"))
	assert.Equal(t, []any{"-listen=:9090", "-text=Hello Kubernetes!!!"}, dep.Get(c+"args"))
	assert.Equal(t, map[string]any{"cpu": "10m", "memory": "16Mi", "ephemeral-storage": "16Mi"}, dep.Get(c+"resources.requests"))
	assert.Equal(t, map[string]any{"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "64Mi"}, dep.Get(c+"resources.limits"))
	assert.Equal(t, 9090.0, dep.Get(c+"ports.0.containerPort"))
	for _, probe := range []string{"readinessProbe", "startupProbe"} {
		assert.Equal(t, "/kuberneteshello", dep.Get(c+probe+".httpGet.path"), probe)
		assert.Equal(t, 9090.0, dep.Get(c+probe+".httpGet.port"), probe)
	}
	assert.Equal(t, 9090.0, dep.Get(c+"livenessProbe.tcpSocket.port"), "alive while it listens; ready while it answers")
	assert.Equal(t, 5.0, dep.Get(c+"lifecycle.preStop.sleep.seconds"),
		"keeps serving while the Service lets go (the real-pods tier saw 502s without it)")
	assert.Equal(t, true, dep.Get(c+"securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, 65532.0, dep.Get("spec.template.spec.securityContext.runAsUser"))
	sel := map[string]any{"app.kubernetes.io/name": "hello", "app.kubernetes.io/component": "backend"}
	assert.Equal(t, sel, dep.Get("spec.selector.matchLabels"))

	svc := g.Find(typeService, "be")
	assert.Equal(t, "hello", svc.Get("metadata.name"))
	assert.Equal(t, sel, svc.Get("spec.selector"))
	assert.Equal(t, []any{map[string]any{"name": "http", "port": 9090.0, "targetPort": 9090.0}}, svc.Get("spec.ports"))

	pdb := g.Find(typePDB, "be")
	assert.Equal(t, 1.0, pdb.Get("spec.maxUnavailable"))
	assert.Equal(t, sel, pdb.Get("spec.selector.matchLabels"))

	np := g.Find(typeNetPol, "be")
	assert.Equal(t, sel, np.Get("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}}, np.Get("spec.ingress.0.from"), "no clients given: the namespace's pods")
	assert.Equal(t, 9090.0, np.Get("spec.ingress.0.ports.0.port"))
	assert.Equal(t, []any{}, np.Get("spec.egress"), "it calls nothing")
	for _, r := range g.All() {
		assert.False(t, r.Protect, "a stateless backend needs no protection: %s", r.Name)
	}
}

func TestArgsAreApplied(t *testing.T) {
	g, b := run(t, &backend.Args{
		Namespace: pulumi.String("apps"), Name: "echo", Image: "my/echo:2", Args: []string{"--port=9090"},
		Replicas: 3, MinReadySeconds: intp(0), PodLabels: map[string]string{"team": "apis"},
		Clients:   []kube.Peer{{Pods: map[string]string{"role": "gw"}}},
		Resources: kube.Resources{Limits: kube.Compute{CPU: "200m"}},
	})
	assert.Equal(t, "http://echo:9090/kuberneteshello", b.URL)
	dep := g.Find(typeDeployment, "be")
	assert.Equal(t, "echo", dep.Get("metadata.name"))
	assert.Equal(t, 3.0, dep.Get("spec.replicas"))
	assert.Equal(t, 0.0, dep.Get("spec.minReadySeconds"), "an explicit 0 is kept")
	assert.Equal(t, "my/echo:2", dep.Get("spec.template.spec.containers.0.image"))
	assert.Equal(t, []any{"--port=9090"}, dep.Get("spec.template.spec.containers.0.args"))
	assert.Equal(t, map[string]any{"cpu": "200m", "memory": "64Mi", "ephemeral-storage": "64Mi"}, dep.Get("spec.template.spec.containers.0.resources.limits"))
	assert.Equal(t, "apis", dep.Get("spec.template.metadata.labels.team"), "pod labels reach the pods")
	assert.Nil(t, dep.Get("spec.selector.matchLabels.team"), "but never the selector")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"role": "gw"}}}}, g.Find(typeNetPol, "be").Get("spec.ingress.0.from"))
}

// A custom image does not get http-echo's arguments.
func TestCustomImageGetsNoEchoArgs(t *testing.T) {
	a := backend.Args{Image: "my/hello:1"}.WithDefaults()
	assert.Nil(t, a.Args)
	d := backend.Args{}.WithDefaults()
	assert.Equal(t, []string{"-listen=:9090", "-text=Hello Kubernetes!!!"}, d.Args)
	own := backend.Args{Args: []string{"-text=hi"}}.WithDefaults()
	assert.Equal(t, []string{"-text=hi"}, own.Args, "the caller's args stay with the default image")
}

func refused(t *testing.T, args *backend.Args) error {
	t.Helper()
	var newErr error
	program := func(ctx *pulumi.Context) error {
		_, newErr = backend.NewBackend(ctx, "be", args)
		return newErr
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Empty(t, g.All(), "nothing registered")
	return newErr
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []struct {
		name string
		args *backend.Args
		want string
	}{
		{"nil args", nil, `backend "be": Namespace is required`},
		{"no namespace", &backend.Args{Name: "hello"}, `backend "be": Namespace is required`},
		{"bad values", &backend.Args{Namespace: pulumi.String("apps"), Image: "bad image", Replicas: -1},
			`backend "be": image: "bad image" is not valid; want an image reference such as hashicorp/http-echo:1.0.0; replicas: -1 is not valid; want 1 or more`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := refused(t, c.args)
			require.Error(t, err)
			assert.EqualError(t, err, c.want)
		})
	}
}

func TestWithDefaults(t *testing.T) {
	a := backend.Args{}.WithDefaults()
	assert.Equal(t, "hello", a.Name)
	assert.Equal(t, "hashicorp/http-echo:1.0.0", a.Image)
	assert.Equal(t, 2, a.Replicas)
	assert.Equal(t, kube.Resources{Requests: kube.Compute{CPU: "10m", Memory: "16Mi", EphemeralStorage: "16Mi"},
		Limits: kube.Compute{CPU: "100m", Memory: "64Mi", EphemeralStorage: "64Mi"}}, a.Resources)
	require.NotNil(t, a.MinReadySeconds)
	assert.Equal(t, 5, *a.MinReadySeconds)
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		args backend.Args
		want string // "": valid
	}{
		{"defaults", backend.Args{}, ""},
		{"image valid", backend.Args{Image: "ghcr.io/me/hello:1"}, ""},
		{"image", backend.Args{Image: "hello world"}, `backend.image: "hello world" is not valid; want an image reference such as hashicorp/http-echo:1.0.0`},
		{"one replica", backend.Args{Replicas: 1}, ""},
		{"replicas", backend.Args{Replicas: -2}, "backend.replicas: -2 is not valid; want 1 or more"},
		{"resources", backend.Args{Resources: kube.Resources{Requests: kube.Compute{CPU: "1"}}},
			"backend.resources.requests.cpu: 1 is above backend.resources.limits.cpu (100m); want requests <= limits"},
		{"min ready 0", backend.Args{MinReadySeconds: intp(0)}, ""},
		{"min ready", backend.Args{MinReadySeconds: intp(-1)}, "backend.minReadySeconds: -1 is not valid; want 0 or more"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.args.WithDefaults().Validate("backend")
			if c.want == "" {
				assert.Empty(t, p)
				return
			}
			assert.Contains(t, p, c.want)
			assert.Len(t, p, 1, "one problem only: %v", p)
		})
	}
}
