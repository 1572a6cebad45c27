package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

var stackNames = []string{"dev", "prod", "local"}

// Pulumi.yaml must pass the CLI's own schema, declare exactly the keys the program reads, and
// give each a type and a description; every stack file's values must fit those types.
func TestProjectFileDeclaresEveryKey(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err, "Pulumi.yaml must satisfy the CLI's project schema")
	require.NoError(t, proj.Validate())

	var declared []string
	for k, v := range proj.Config {
		declared = append(declared, k)
		assert.NotEmpty(t, v.Description, "config %s needs a description", k)
		assert.NotEmpty(t, v.TypeName(), "config %s needs a type", k)
		if v.Default != nil {
			// Defaults live in Go; the only defaults allowed here mean "empty, may be left
			// out": {} for objects, "" for secrets only some configurations need.
			assert.Contains(t, []any{map[string]any{}, ""}, v.Default, "config %s: put its default in Go, not Pulumi.yaml", k)
		}
	}
	want := stacks.Keys()
	sort.Strings(declared)
	sort.Strings(want)
	assert.Equal(t, want, declared)

	for _, stack := range stackNames {
		b, err := os.ReadFile(filepath.Join(root, "Pulumi."+stack+".yaml"))
		require.NoError(t, err)
		var file struct {
			Config map[string]any `yaml:"config"`
		}
		require.NoError(t, yaml.Unmarshal(b, &file))
		for k, v := range file.Config {
			if strings.HasPrefix(k, "gcp:") {
				// The provider's own settings (gcp:region), which the program reads as the
				// cluster's defaults.
				assert.Contains(t, []string{"gcp:region", "gcp:project"}, k, "Pulumi.%s.yaml", stack)
				continue
			}
			key := k[len(proj.Name.String())+1:]
			typ, ok := proj.Config[key]
			if !assert.True(t, ok, "Pulumi.%s.yaml sets %s, which Pulumi.yaml does not declare", stack, k) {
				continue
			}
			if obj, isObj := v.(map[string]any); isObj && obj["secure"] != nil {
				continue
			}
			assert.True(t, workspace.ValidateConfigValue(typ.TypeName(), typ.Items, v),
				"Pulumi.%s.yaml: %s is not a %s", stack, k, typ.TypeName())
		}
	}
}
