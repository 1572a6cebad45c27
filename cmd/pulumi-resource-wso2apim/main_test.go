package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim/internal/argsgen"
	"github.com/wso2-k8s/apim-gke/components/platform"
	"github.com/wso2-k8s/apim-gke/stacks"
)

var update = flag.Bool("update", false, "rewrite schema.json from the provider")

// schema is the provider's schema as `pulumi package get-schema` prints it, indented.
func schema(t *testing.T) []byte {
	t.Helper()
	prov, err := provider()
	require.NoError(t, err)
	server, err := integration.NewServer(context.Background(), "wso2apim", semver.MustParse(Version), integration.WithProvider(prov))
	require.NoError(t, err)
	resp, err := server.GetSchema(p.GetSchemaRequest{})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, []byte(resp.Schema), "", "  "))
	return append(out.Bytes(), '\n')
}

// The committed schema is the one the provider serves: regenerate with
// `go test . -run TestSchemaIsCurrent -update` (README, "Use it from TypeScript, Python or YAML").
func TestSchemaIsCurrent(t *testing.T) {
	got := schema(t)
	if *update {
		require.NoError(t, os.WriteFile("schema.json", got, 0o644))
	}
	want, err := os.ReadFile("schema.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "schema.json is stale: go test . -run TestSchemaIsCurrent -update")
}

type schemaDoc struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Resources map[string]struct {
		IsComponent     bool                       `json:"isComponent"`
		InputProperties map[string]json.RawMessage `json:"inputProperties"`
		Properties      map[string]struct {
			Secret bool `json:"secret"`
		} `json:"properties"`
	} `json:"resources"`
}

// The schema carries the Go API: the Platform under its Go type token, one input per config
// key of a stack (Pulumi.yaml's keys are stacks.Keys()), the secrets marked secret, and every
// output the stacks export, under the same names.
func TestSchemaCarriesTheGoAPI(t *testing.T) {
	var s schemaDoc
	require.NoError(t, json.Unmarshal(schema(t), &s))
	assert.Equal(t, "wso2apim", s.Name)
	assert.Equal(t, Version, s.Version)
	r, ok := s.Resources["wso2apim:platform:Platform"]
	require.True(t, ok, "the Go API's token: %v", s.Resources)
	assert.True(t, r.IsComponent)
	var inputs []string
	for k := range r.InputProperties {
		inputs = append(inputs, k)
	}
	want := append(stacks.Keys(), "kubeconfig")
	sort.Strings(inputs)
	sort.Strings(want)
	assert.Equal(t, want, inputs)
	for _, key := range append(platform.SecretKeys(), "kubeconfig") {
		var in struct {
			Secret bool `json:"secret"`
		}
		require.NoError(t, json.Unmarshal(r.InputProperties[key], &in))
		assert.True(t, in.Secret, "input %s is a secret", key)
	}
	var outputs []string
	for k := range r.Properties {
		outputs = append(outputs, k)
	}
	sort.Strings(outputs)
	assert.Equal(t, stackOutputs(t), outputs)
	for _, secret := range []string{"adminPassword", "kubeconfig", "generatedSecrets"} {
		assert.True(t, r.Properties[secret].Secret, secret)
	}
}

// stackOutputs are the names stacks.Program exports the Platform's outputs under.
func stackOutputs(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "stacks", "program.go"))
	require.NoError(t, err)
	var names []string
	for _, m := range regexp.MustCompile(`"(\w+)":\s+p\.(\w+),`).FindAllStringSubmatch(string(src), -1) {
		names = append(names, m[1])
		found := false
		for _, o := range argsgen.Outputs {
			found = found || (o.Name == m[1] && o.Field == m[2])
		}
		assert.True(t, found, "stacks.Program exports p.%s as %s; argsgen.Outputs must name it alike", m[2], m[1])
	}
	require.NotEmpty(t, names, "no exports found in stacks/program.go")
	sort.Strings(names)
	return names
}
