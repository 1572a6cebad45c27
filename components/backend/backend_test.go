package backend_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeBackend = "wso2apim:backend:Backend"

func intp(v int) *int { return &v }

func run(t *testing.T, args *backend.Args) (*harness.Graph, *backend.Backend) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, backend.NewBackend, "be", args)
}

func TestBackendAlone(t *testing.T) {
	g, b := run(t, &backend.Args{Namespace: pulumi.String("apps")})
	assert.ElementsMatch(t, []string{harness.TypeDeployment + " be", harness.TypeService + " be", harness.TypePDB + " be", harness.TypeNetworkPolicy + " be"}, harness.Children(t, g, typeBackend))
	assert.Equal(t, "http://hello:9090/kuberneteshello", b.URL)

	dep := g.Find(harness.TypeDeployment, "be")
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

	svc := g.Find(harness.TypeService, "be")
	assert.Equal(t, "hello", svc.Get("metadata.name"))
	assert.Equal(t, sel, svc.Get("spec.selector"))
	assert.Equal(t, []any{map[string]any{"name": "http", "port": 9090.0, "targetPort": 9090.0}}, svc.Get("spec.ports"))

	pdb := g.Find(harness.TypePDB, "be")
	assert.Equal(t, 1.0, pdb.Get("spec.maxUnavailable"))
	assert.Equal(t, sel, pdb.Get("spec.selector.matchLabels"))

	np := g.Find(harness.TypeNetworkPolicy, "be")
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
	dep := g.Find(harness.TypeDeployment, "be")
	assert.Equal(t, "echo", dep.Get("metadata.name"))
	assert.Equal(t, 3.0, dep.Get("spec.replicas"))
	assert.Equal(t, 0.0, dep.Get("spec.minReadySeconds"), "an explicit 0 is kept")
	assert.Equal(t, "my/echo:2", dep.Get("spec.template.spec.containers.0.image"))
	assert.Equal(t, []any{"--port=9090"}, dep.Get("spec.template.spec.containers.0.args"))
	assert.Equal(t, map[string]any{"cpu": "200m", "memory": "64Mi", "ephemeral-storage": "64Mi"}, dep.Get("spec.template.spec.containers.0.resources.limits"))
	assert.Equal(t, "apis", dep.Get("spec.template.metadata.labels.team"), "pod labels reach the pods")
	assert.Nil(t, dep.Get("spec.selector.matchLabels.team"), "but never the selector")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"role": "gw"}}}}, g.Find(harness.TypeNetworkPolicy, "be").Get("spec.ingress.0.from"))
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

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*backend.Args]{
		{"nil args", nil, `backend "be": Namespace is required`},
		{"no namespace", &backend.Args{Name: "hello"}, `backend "be": Namespace is required`},
		{"bad values", &backend.Args{Namespace: pulumi.String("apps"), Image: "bad image", Replicas: -1},
			`backend "be": image: "bad image" is not valid; want an image reference such as hashicorp/http-echo:1.0.0; replicas: -1 is not valid; want 1 or more`},
	}
	harness.ExpectRefusals(t, backend.NewBackend, "be", cases)
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
	cases := []harness.Validation[backend.Args]{
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
	harness.ExpectProblems(t, func(args backend.Args) []string { return args.WithDefaults().Validate("backend") }, cases)
}
