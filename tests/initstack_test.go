package tests

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

// tools/init-stack.sh is the documented first step of every stack: keep it strict and working.

func TestInitStackScriptIsStrictAndShellcheckClean(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	script := filepath.Join(root, "tools", "init-stack.sh")
	b, err := os.ReadFile(script)
	require.NoError(t, err)
	assert.Contains(t, string(b), "\nset -euo pipefail\n")
	info, err := os.Stat(script)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&0o111, "tools/init-stack.sh must be executable")

	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck not installed (apt-get install shellcheck)")
	}
	out, err := exec.Command("shellcheck", script).CombinedOutput()
	assert.NoError(t, err, "shellcheck:\n%s", out)
}

// pulumiForTests finds a Pulumi CLI: on PATH, or the one the end-to-end suite builds.
func pulumiForTests() string {
	if p, err := exec.LookPath("pulumi"); err == nil {
		return p
	}
	cache := os.Getenv("WSO2_APIM_E2E_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "wso2-apim-e2e")
	}
	p := filepath.Join(cache, "bin", "pulumi")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// The script against a file backend in a scratch copy of the project: it creates the stack
// with a passphrase, records gcp:project in the stack file, selects the stack when run again,
// and refuses a Google Cloud stack without a project before it creates anything.
func TestInitStackAgainstAFileBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Pulumi CLI")
	}
	pulumi := pulumiForTests()
	if pulumi == "" {
		t.Skip("no Pulumi CLI on PATH or in the e2e cache (tests/e2e/env/tools.sh builds one)")
	}
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
