//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// tools/init-stack.sh is the documented first step of every stack; this runs it with the real
// CLI, which only the end-to-end tiers have (make test runs while the tools build).

// The script against a file backend in a scratch copy of the project: it creates the stack
// with a passphrase, records gcp:project in the stack file, selects the stack when run again,
// and refuses a Google Cloud stack without a project before it creates anything.
func TestInitStackAgainstAFileBackend(t *testing.T) {
	// The suite's CLI, which run.sh puts on PATH: never skipped for want of it.
	pulumi, err := exec.LookPath("pulumi")
	require.NoError(t, err, "the Pulumi CLI must be on PATH (make e2e-simulated puts it there)")
	root, err := harness.RepoRoot()
	require.NoError(t, err)

	work := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "tools"), 0o755))
	for _, f := range []string{"Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "tools/init-stack.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(work, f), b, 0o755))
	}
	state := filepath.Join(work, "state")
	require.NoError(t, os.MkdirAll(state, 0o755))

	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(work, "tools", "init-stack.sh"), args...)
		cmd.Dir = t.TempDir() // the script finds the project from its own path
		cmd.Env = append([]string{
			"PATH=" + filepath.Dir(pulumi) + string(os.PathListSeparator) + os.Getenv("PATH"),
			"HOME=" + work,
			"PULUMI_HOME=" + filepath.Join(work, ".pulumi"),
			"PULUMI_SKIP_UPDATE_CHECK=true",
			"PULUMI_CONFIG_PASSPHRASE=not-a-secret",
		}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	stacksInBackend := func() []string {
		m, _ := filepath.Glob(filepath.Join(state, ".pulumi", "stacks", "*", "*.json"))
		var names []string
		for _, f := range m {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
		return names
	}

	out, err := run(nil, "prod", "--backend", "file://"+state)
	require.Error(t, err, out)
	assert.Contains(t, out, "pass --project <id> or set GOOGLE_CLOUD_PROJECT")
	assert.Empty(t, stacksInBackend(), "a refused run must not create the stack")

	out, err = run(nil, "dev", "--backend", "file://"+state, "--project", "my-apim-dev-1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "pulumi stack init dev")
	file, err := os.ReadFile(filepath.Join(work, "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(file), "  gcp:project: my-apim-dev-1\n")
	assert.Contains(t, string(file), "\nencryptionsalt: ")
	assert.Contains(t, string(file), "  gcp:region: europe-west1\n", "the stack's own settings are kept")
	assert.Equal(t, []string{"dev"}, stacksInBackend())

	// Again, from the environment this time: the stack is selected, not created twice.
	out, err = run([]string{"PULUMI_BACKEND_URL=file://" + state, "GOOGLE_CLOUD_PROJECT=my-apim-dev-2"}, "dev")
	require.NoError(t, err, out)
	assert.Contains(t, out, "stack dev exists: selected")
	file, err = os.ReadFile(filepath.Join(work, "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(file), "  gcp:project: my-apim-dev-2\n")
	assert.Equal(t, 1, strings.Count(string(file), "encryptionsalt:"))
}
