package toolchain

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ciRun runs .ci/run in a copy of its layout with stub tools: `make` and `go` record what they
// are asked and succeed (make fails for the targets in STUB_MAKE_FAIL), and tools.sh installs
// the simulated tier's tools at once and the real-pods tier's only when STUB_REALPODS_READY=1
// (otherwise it is still "building" when the run has to decide). It returns the exit status,
// the output, the make targets run, and the timings file's lines.
func ciRun(t *testing.T, env ...string) (int, string, []string, []map[string]any) {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(filepath.Join(root, src))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), b, mode))
	}
	copyFile(".ci/run", ".ci/run", 0o755)
	copyFile("tests/e2e/env/lib.sh", "tests/e2e/env/lib.sh", 0o644)
	write := func(p, s string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(s), 0o755))
	}
	write("tests/e2e/env/tools.sh", `#!/bin/sh
case " $* " in
  *" kubelet "*) [ "${STUB_REALPODS_READY:-0}" = 1 ] || sleep 600 ;;
esac
echo /stub/bin
`)
	stubs := filepath.Join(dir, "stubs")
	write("stubs/make", `#!/bin/sh
echo "$1" >>"$STUB_LOG"
echo "stub make $1"
case " ${STUB_MAKE_FAIL:-} " in *" $1 "*) exit 3 ;; esac
exit 0
`)
	write("stubs/go", "#!/bin/sh\nexit 0\n")
	makeLog := filepath.Join(dir, "make.log")
	cmd := exec.Command("bash", filepath.Join(dir, ".ci/run"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"), "STUB_LOG="+makeLog,
		"WSO2_APIM_E2E_CACHE="+filepath.Join(dir, "cache"), "CI_ARTIFACTS_DIR="+filepath.Join(dir, "artifacts"),
		"E2E_TIMINGS=", "CI_BUDGET_MINUTES=5", "REALPODS_MINUTES=2")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	made, _ := os.ReadFile(makeLog)
	var lines []map[string]any
	f, err := os.Open(filepath.Join(dir, "artifacts", "timings.jsonl"))
	require.NoError(t, err, "the timings are kept in the artifacts directory:\n%s", out)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(s.Bytes(), &m), s.Text())
		lines = append(lines, m)
	}
	for _, name := range []string{"make-test.log", "make-e2e-simulated.log", "e2e-tools.log"} {
		assert.FileExists(t, filepath.Join(dir, "artifacts", name))
	}
	return rc, string(out), strings.Fields(string(made)), lines
}

func timing(lines []map[string]any, step string) map[string]any {
	for _, l := range lines {
		if l["step"] == step {
			return l
		}
	}
	return nil
}

// On a machine whose real-pods tools are still building when the run must decide, the tier is
// skipped, recorded as not passed and shown in the final summary; the run still succeeds
// unless CI_REQUIRE_REALPODS=1.
func TestCIRunRecordsSkippedRealPodsTier(t *testing.T) {
	rc, out, made, lines := ciRun(t)
	require.Equal(t, 0, rc, out)
	assert.Equal(t, []string{"test", "e2e-simulated", "e2e-restore"}, made, "the real-pods tier must not run")
	skipped := timing(lines, "realpods-skipped-cold")
	require.NotNil(t, skipped, "the skip is in the timings:\n%s", out)
	assert.Equal(t, false, skipped["ok"], "a skipped tier did not pass")
	assert.Equal(t, true, skipped["skipped"])
	assert.Equal(t, true, timing(lines, "make-test")["ok"])
	assert.Equal(t, true, timing(lines, "total")["ok"])
	summary := out[strings.Index(out, "CI SUMMARY"):]
	assert.Regexp(t, `real-pods tier \(tier 3\)\s+SKIPPED, NOT PASSED\s+its tools were still building`, summary)
	assert.Regexp(t, `make test\s+passed`, summary)
	assert.Regexp(t, `restore drill\s+passed`, summary)

	rc, out, _, lines = ciRun(t, "CI_REQUIRE_REALPODS=1")
	assert.Equal(t, 1, rc, out)
	assert.Equal(t, false, timing(lines, "total")["ok"])
	assert.Contains(t, out, "SKIPPED, NOT PASSED")
}

// With its tools ready the tier runs; a failing tier fails the run and says where its log is.
func TestCIRunRunsAndReportsRealPodsTier(t *testing.T) {
	rc, out, made, lines := ciRun(t, "STUB_REALPODS_READY=1")
	require.Equal(t, 0, rc, out)
	assert.Equal(t, []string{"test", "e2e-simulated", "e2e-restore", "e2e-realpods"}, made)
	assert.Nil(t, timing(lines, "realpods-skipped-cold"))
	assert.Equal(t, true, timing(lines, "make-e2e-realpods")["ok"])
	assert.Regexp(t, `real-pods tier \(tier 3\)\s+passed`, out[strings.Index(out, "CI SUMMARY"):])

	rc, out, made, lines = ciRun(t, "STUB_REALPODS_READY=1", "STUB_MAKE_FAIL=e2e-realpods")
	assert.Equal(t, 3, rc, out)
	assert.Equal(t, []string{"test", "e2e-simulated", "e2e-restore", "e2e-realpods"}, made)
	assert.Equal(t, false, timing(lines, "make-e2e-realpods")["ok"])
	assert.Equal(t, false, timing(lines, "total")["ok"])
	assert.Regexp(t, `real-pods tier \(tier 3\)\s+FAILED \(exit status 3\).*make-e2e-realpods\.log`, out[strings.Index(out, "CI SUMMARY"):])

	rc, out, made, _ = ciRun(t, "STUB_MAKE_FAIL=e2e-simulated")
	assert.Equal(t, 3, rc, out)
	assert.Equal(t, []string{"test", "e2e-simulated"}, made, "nothing runs after a failed tier")
	assert.Regexp(t, `simulated tier \(tier 2\)\s+FAILED`, out)

	rc, out, made, lines = ciRun(t, "STUB_REALPODS_READY=1", "STUB_MAKE_FAIL=e2e-restore")
	assert.Equal(t, 3, rc, out)
	assert.Equal(t, []string{"test", "e2e-simulated", "e2e-restore"}, made, "a failed restore drill ends the run")
	assert.Equal(t, false, timing(lines, "make-e2e-restore")["ok"])
	assert.Regexp(t, `restore drill\s+FAILED \(exit status 3\).*make-e2e-restore\.log`, out)
}
