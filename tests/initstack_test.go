package tests

import (
	"os"
	"os/exec"
	"path/filepath"
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

	out, err := exec.Command(need(t, "shellcheck", "shellcheck"), script).CombinedOutput()
	assert.NoError(t, err, "shellcheck:\n%s", out)
}
