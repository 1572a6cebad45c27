package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim/internal/argsgen"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// args_gen.go is what internal/argsgen makes of today's platform.Args: `go generate ./...`.
func TestArgsAreGenerated(t *testing.T) {
	want, err := argsgen.Generate()
	require.NoError(t, err)
	got, err := os.ReadFile("args_gen.go")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "args_gen.go is stale: go generate ./... in cmd/pulumi-resource-wso2apim")
}

// recorder records what a Construct registers, answering as the harness's mocks do for the
// types the Platform reads outputs from in mode existing.
type recorder struct {
	mu        sync.Mutex
	resources []string
	providers map[string]string // "type name" -> its provider reference's URN
	inputs    map[string]resource.PropertyMap
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := args.TypeToken + " " + args.Name
	r.resources = append(r.resources, key)
	if r.providers == nil {
		r.providers, r.inputs = map[string]string{}, map[string]resource.PropertyMap{}
	}
	r.providers[key] = args.Provider
	r.inputs[key] = args.Inputs
	out := args.Inputs.Copy()
	if args.TypeToken == "kubernetes:core/v1:Service" {
		spec := out["spec"].ObjectValue().Copy()
		spec["clusterIP"] = resource.NewProperty("10.96.0.50")
		out["spec"] = resource.NewProperty(spec)
	}
	return args.Name + "-id", out, nil
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// construct asks the provider for a Platform named apim, as the engine would for a program of
// stack local.
func construct(t *testing.T, inputs property.Map) (*recorder, p.ConstructResponse, error) {
	t.Helper()
	prov, err := infer.NewProviderBuilder().WithComponents(infer.Component(&Component{})).Build()
	require.NoError(t, err)
	rec := &recorder{}
	server, err := integration.NewServer(context.Background(), "wso2apim", semver.MustParse("0.1.0"),
		integration.WithProvider(prov), integration.WithMocks(rec))
	require.NoError(t, err)
	resp, err := server.Construct(p.ConstructRequest{
		Urn:    resource.NewURN("local", "wso2-apim", "", "wso2apim:platform:Platform", stacks.Name),
		Inputs: inputs, DryRun: true,
	})
	return rec, resp, err
}

// localInputs are the local stack's config and the harness's secrets, as a program in any
// language would pass them.
func localInputs(t *testing.T) property.Map {
	t.Helper()
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	_, cfg, err := harness.LoadStackConfig(root, "local")
	require.NoError(t, err)
	m := resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(cfg)).AsMap()
	for k, v := range harness.TestSecrets {
		m[k] = property.New(v).WithSecret(true)
	}
	return property.NewMap(m)
}

// The package makes what the Go stack makes: the same resources, by type and name.
func TestConstructMakesWhatTheGoStackMakes(t *testing.T) {
	rec, resp, err := construct(t, localInputs(t))
	require.NoError(t, err)
	g, err := harness.Run(stacks.Program, "local", harness.Options{})
	require.NoError(t, err)
	var want []string
	for _, r := range g.All() {
		want = append(want, r.Type+" "+r.Name)
	}
	sort.Strings(want)
	got := append([]string(nil), rec.resources...)
	sort.Strings(got)
	assert.Equal(t, want, got)
	assert.Contains(t, got, "kubernetes:apps/v1:StatefulSet apim-cp")
	assert.Contains(t, got, "kubernetes:batch/v1:CronJob apim-mysql-backup")

	state := resp.State.AsMap()
	assert.Equal(t, "wso2-apim", state["namespace"].AsString())
	assert.Equal(t, "am.apim.localtest.me", state["managementHost"].AsString())
	assert.True(t, state["adminPassword"].Secret(), "adminPassword stays a secret")
}

func TestBadArgsRegisterNothing(t *testing.T) {
	in := localInputs(t).AsMap()
	in["gateway"] = property.New(map[string]property.Value{"minReplicas": property.New(5.0), "maxReplicas": property.New(2.0)})
	rec, _, err := construct(t, property.NewMap(in))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gateway.maxReplicas: 2 is not greater than gateway.minReplicas (5)")
	assert.Empty(t, rec.resources)

	in = localInputs(t).AsMap()
	in["cluster"] = property.New(map[string]property.Value{"mode": property.New("gke"), "project": property.New("p"), "region": property.New("europe-west1")})
	in["kubeconfig"] = property.New("apiVersion: v1").WithSecret(true)
	rec, _, err = construct(t, property.NewMap(in))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `kubeconfig: reaches an existing cluster; set cluster.mode existing (it is "gke")`)
	assert.Empty(t, rec.resources)

	in = localInputs(t).AsMap()
	in["apim"] = property.New(map[string]property.Value{"replicas": property.New("two")})
	_, _, err = construct(t, property.NewMap(in))
	require.Error(t, err, "a value of the wrong type is refused, not dropped")
}

// kubeconfig stands in for the Go API's cluster.Provider: every Kubernetes resource is made
// with the provider made from it.
func TestKubeconfigInputMakesTheProvider(t *testing.T) {
	in := localInputs(t).AsMap()
	in["kubeconfig"] = property.New("apiVersion: v1\nkind: Config\n").WithSecret(true)
	rec, resp, err := construct(t, property.NewMap(in))
	require.NoError(t, err)
	key := "pulumi:providers:kubernetes apim-kubeconfig"
	require.Contains(t, rec.resources, key)
	assert.NotContains(t, rec.resources, "pulumi:providers:kubernetes apim-k8s", "the Go API's own provider is not made")
	assert.True(t, rec.inputs[key]["kubeconfig"].ContainsSecrets(), "the kubeconfig stays a secret")
	assert.Equal(t, "existing/local", rec.inputs[key]["clusterIdentifier"].StringValue())
	n := 0
	for r, prov := range rec.providers {
		if strings.HasPrefix(r, "kubernetes:") {
			n++
			assert.True(t, strings.HasSuffix(prov, "::pulumi:providers:kubernetes::apim-kubeconfig::apim-kubeconfig-id"), "%s uses %s", r, prov)
		}
	}
	assert.Positive(t, n)
	assert.True(t, resp.State.Get("kubeconfig").Secret())
}

// examples/yaml constructs: its properties are inputs the schema has, of the right types, that
// make the same resources as the local stack, and its outputs name outputs the Platform has.
func TestYAMLExampleConstructs(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "examples", "yaml", "Pulumi.yaml"))
	require.NoError(t, err)
	var program struct {
		Resources map[string]struct {
			Type       string         `yaml:"type"`
			Properties map[string]any `yaml:"properties"`
		} `yaml:"resources"`
		Outputs map[string]string `yaml:"outputs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &program))
	apim := program.Resources["apim"]
	require.Equal(t, "wso2apim:platform:Platform", apim.Type)
	rec, resp, err := construct(t, resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(apim.Properties)))
	require.NoError(t, err)
	// No secret is set in the example: the Platform generates them, as the local stack does
	// when none is set.
	g, err := harness.Run(stacks.Program, "local", harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	// Names that end in a hash of their content (the TLS and keystore Secrets) differ with the
	// example's own domain and namespace.
	hash := regexp.MustCompile(`-[0-9a-f]{8}$`)
	var want, got []string
	for _, r := range g.All() {
		want = append(want, hash.ReplaceAllString(r.Type+" "+r.Name, "-<hash>"))
	}
	for _, r := range rec.resources {
		got = append(got, hash.ReplaceAllString(r, "-<hash>"))
	}
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got, "the local stack's resources")
	assert.Contains(t, got, "wso2apim:secrets:Generated apim-secrets")
	assert.Equal(t, "wso2-yaml", resp.State.Get("namespace").AsString())
	for name, expr := range program.Outputs {
		out := strings.TrimSuffix(strings.TrimPrefix(expr, "${apim."), "}")
		_, ok := resp.State.GetOk(out)
		assert.True(t, ok, "output %s reads apim.%s, which the Platform does not have", name, out)
	}
}
