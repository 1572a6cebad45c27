//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// yamlNamespace is examples/yaml's namespace.
const yamlNamespace = "wso2-yaml"

// TestYAMLProgram deploys examples/yaml, the Platform from Pulumi YAML through the component
// package, with the real CLI, YAML language host and plugin: the same workloads as the Go
// stack, a clean second preview that also passes the policy pack, and a destroy that leaves
// nothing.
func TestYAMLProgram(t *testing.T) {
	ctx := context.Background()
	k, err := kubeclient.New(os.Getenv("KUBECONFIG"))
	require.NoError(t, err, "KUBECONFIG must point at the suite's API server (make e2e sets it)")
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	for _, tool := range []string{"pulumi-language-yaml", "pulumi-resource-wso2apim"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s must be on PATH (tests/e2e/run.sh puts it there)", tool)
	}
	stack := yamlStack(t, ctx, root)

	step(t, "yaml-1-up-from-empty", func(t *testing.T) {
		res, err := stack.Up(ctx, optup.SuppressProgress())
		require.NoError(t, err)
		assertObjectsIn(t, k, yamlNamespace)
		assert.Equal(t, yamlNamespace, res.Outputs["namespace"].Value)
		assert.Equal(t, "admin", res.Outputs["adminUsername"].Value)
		assert.True(t, res.Outputs["adminPassword"].Secret, "adminPassword is a secret output")
		assert.Contains(t, res.Outputs["publisherURL"].Value, "am.yaml.localtest.me")
	})

	step(t, "yaml-2-preview-is-clean-and-passes-the-policy-pack", func(t *testing.T) {
		ch, report := policyEvents()
		_, err := stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Diff(),
			optpreview.PolicyPacks(policyPack(t, root)), optpreview.EventStreams(ch))
		r := report()
		r.print()
		require.NoError(t, err, "a preview right after up must show no changes and break no mandatory rule")
		assert.Len(t, r.passed, len(rules.Rules)+1, "every rule and cannot-judge ran and passed")
		assert.Empty(t, r.findings)
	})

	step(t, "yaml-3-destroy-leaves-nothing", func(t *testing.T) {
		_, err := stack.Destroy(ctx, optdestroy.SuppressProgress())
		require.NoError(t, err)
		assertNothingLeft(t, k)
	})
}

// yamlStack opens examples/yaml as stack e2e in a workspace of its own, with a file backend.
// The example's packages entry makes the CLI clone and build the plugin from GitHub at the
// release tag; the suite runs this commit's plugin from PATH instead, so the copy drops it.
func yamlStack(t *testing.T, ctx context.Context, root string) auto.Stack {
	t.Helper()
	work := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "examples", "yaml", "Pulumi.yaml"))
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	top := doc.Content[0]
	found := false
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "packages" {
			top.Content = append(top.Content[:i], top.Content[i+2:]...)
			found = true
			break
		}
	}
	require.True(t, found, "examples/yaml/Pulumi.yaml has no packages entry")
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(work, "Pulumi.yaml"), out, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(work, "state"), 0o755))
	stack, err := auto.UpsertStackLocalSource(ctx, "e2e", work,
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(map[string]string{
			"PULUMI_BACKEND_URL":       "file://" + filepath.Join(work, "state"),
			"PULUMI_CONFIG_PASSPHRASE": "e2e-only-passphrase",
			"PULUMI_SKIP_UPDATE_CHECK": "true",
		}))
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := stack.Destroy(context.Background(), optdestroy.SuppressProgress()); err != nil && !strings.Contains(err.Error(), "no stack") {
			t.Logf("cleanup destroy: %v", err)
		}
	})
	return stack
}
