package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/policy/pack"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// One version for the Go module, the component package and the policy pack: the newest one
// CHANGELOG.md names (its release instructions list where it is written).
func TestOneVersion(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(changelog)
	require.NotNil(t, m, "CHANGELOG.md names no version (## [X.Y.Z])")
	version := string(m[1])

	proj, err := workspace.LoadPolicyPack(filepath.Join(root, "policy", "PulumiPolicy.yaml"))
	require.NoError(t, err)
	assert.Equal(t, version, proj.Version, "policy/PulumiPolicy.yaml")
	assert.Equal(t, version, pack.Version.String(), "pack.Version")

	var schema struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(root, "cmd", "pulumi-resource-wso2apim", "schema.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &schema))
	assert.Equal(t, version, schema.Version, "cmd/pulumi-resource-wso2apim/schema.json (main.go's Version)")

	source := regexp.MustCompile(`github\.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim@v(\d+\.\d+\.\d+)`)
	for _, f := range []string{filepath.Join("docs", "components.md"), filepath.Join("examples", "yaml", "Pulumi.yaml")} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		refs := source.FindAllSubmatch(b, -1)
		require.NotEmpty(t, refs, "%s names no version of the package", f)
		for _, r := range refs {
			assert.Equal(t, version, string(r[1]), "%s: %s", f, r[0])
		}
	}
}
