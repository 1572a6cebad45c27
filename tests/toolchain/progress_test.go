package toolchain

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var progressLine = regexp.MustCompile(`building kube \(kubectl\): (\d+) packages compiled after [0-9.]+s, last example\.com/slow/pkg\d+`)

// A build that takes longer than the progress interval says, at that interval, how far it
// is; one that ends before the interval says nothing more than that it started and ended.
func TestToolsBuildSaysWhatItIsDoing(t *testing.T) {
	v := versions(t)
	slow := runTools(t, v, "http://127.0.0.1:1", "", []string{
		"E2E_TOOLS_SOURCE=build", "E2E_TOOLS_PROGRESS_SECONDS=1", "FAKE_BUILD_PACKAGES=20",
	}, "kubectl")
	require.NoError(t, slow.err, slow.stderr)
	lines := progressLine.FindAllStringSubmatch(slow.stderr, -1)
	require.GreaterOrEqual(t, len(lines), 2, "a 10 s build with a 1 s interval must report at least twice (more, unless the machine is overloaded):\n%s", slow.stderr)
	// The count grows: it is read from the build's own output, not printed as a constant.
	assert.NotEqual(t, lines[0][1], lines[len(lines)-1][1], "packages compiled never changed:\n%s", slow.stderr)

	// Negative control: the same build with an interval longer than the build reports nothing.
	quiet := runTools(t, v, "http://127.0.0.1:1", "", []string{
		"E2E_TOOLS_SOURCE=build", "E2E_TOOLS_PROGRESS_SECONDS=60", "FAKE_BUILD_PACKAGES=2",
	}, "kubectl")
	require.NoError(t, quiet.err, quiet.stderr)
	assert.Empty(t, progressLine.FindAllString(quiet.stderr, -1))
}

// shellList evaluates a variable of tests/e2e/env/lib.sh in bash.
func shellList(t *testing.T, name string) []string {
	t.Helper()
	out, err := exec.Command("bash", "-c", `. "$1"; printf '%s' "${!2}"`, "lib",
		filepath.Join(root, "tests", "e2e", "env", "lib.sh"), name).Output()
	require.NoError(t, err)
	list := strings.Fields(string(out))
	require.NotEmpty(t, list, "%s is empty in lib.sh", name)
	return list
}

// realPodsOnlyTools are the tools declared in tools.sh's real-pods block.
func realPodsOnlyTools(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "tests", "e2e", "env", "tools.sh"))
	require.NoError(t, err)
	text := string(src)
	start := strings.Index(text, "# --- The real-pods tier's tools")
	end := strings.Index(text, "# --- end of the real-pods tier's tools")
	require.True(t, start >= 0 && end > start, "tools.sh lost the markers of its real-pods block")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^tool (\S+) `).FindAllStringSubmatch(text[start:end], -1) {
		names = append(names, m[1])
	}
	require.NotEmpty(t, names)
	return names
}

// make demo builds what it runs and nothing of the real-pods tier: cold, those node tools
// (kubelet, kube-proxy, metrics-server...) were most of a 61-minute first demo.
func TestDemoBuildsOnlyItsOwnTools(t *testing.T) {
	demoTools := shellList(t, "E2E_DEMO_TOOLS")
	for _, name := range realPodsOnlyTools(t) {
		assert.NotContains(t, demoTools, name, "the demo does not run %s", name)
	}

	demo, err := os.ReadFile(filepath.Join(root, "tests", "e2e", "demo.sh"))
	require.NoError(t, err)
	up, err := os.ReadFile(filepath.Join(root, "tests", "e2e", "env", "up.sh"))
	require.NoError(t, err)
	// Every tools.sh call in demo.sh names its tools: a bare call installs every tool.
	for _, call := range regexp.MustCompile(`tools\.sh[^\n)]*\)`).FindAllString(string(demo), -1) {
		assert.NotEqual(t, "tools.sh)", call, "demo.sh calls tools.sh without naming tools")
	}
	assert.Contains(t, string(demo), "tools.sh $E2E_DEMO_TOOLS)")

	// And the list covers what the demo starts: every $bin/NAME of up.sh and demo.sh, and the
	// commands demo.sh runs from that bin on PATH.
	used := []string{"kubectl", "pulumi"}
	for _, m := range regexp.MustCompile(`\$bin/([a-z0-9-]+)`).FindAllStringSubmatch(string(demo)+string(up), -1) {
		used = append(used, m[1])
	}
	for _, name := range used {
		assert.True(t, slices.Contains(demoTools, name), "the demo runs %s but E2E_DEMO_TOOLS lacks it", name)
	}
}
