package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
)

// The JMX exporter's download runs as it does in the pod: the very script, with curl and
// POSIX tools (busybox's), over TLS that curl checks. Only a jar matching the pinned sha256 is
// put in place, beside the agent's config.
func TestJMXExporterFetchScriptVerifiesWhatItDownloads(t *testing.T) {
	busybox := need(t, "busybox", "busybox-static")
	curl := need(t, "curl", "curl")
	const jar = "PK\x03\x04 the agent's bytes"
	srv := fakeRepository(t, map[string]string{"/agent.jar": jar})
	bin := t.TempDir()
	for _, applet := range []string{"sha256sum", "mv", "rm", "printf", "echo"} {
		require.NoError(t, os.Symlink(busybox, filepath.Join(bin, applet)))
	}
	require.NoError(t, os.Symlink(curl, filepath.Join(bin, "curl")))
	trusted := trustOnly(t, srv)
	run := func(url, pin, caBundle string) (string, map[string]string, error) {
		dir := t.TempDir()
		cmd := exec.Command(busybox, "sh", "-c", apim.JMXExporterFetchScript)
		cmd.Env = []string{"PATH=" + bin, "AGENT_DIR=" + dir, "AGENT_URL=" + url, "AGENT_SHA256=" + pin,
			"AGENT_CONFIG=" + apim.JMXExporterConfig, "CURL_CA_BUNDLE=" + caBundle}
		out, err := cmd.CombinedOutput()
		files := map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			files[e.Name()] = string(b)
		}
		return string(out), files, err
	}

	out, files, err := run(srv.URL+"/agent.jar", sum256(jar), trusted)
	require.NoError(t, err, out)
	assert.Equal(t, map[string]string{"jmx_prometheus_javaagent.jar": jar, "config.yaml": apim.JMXExporterConfig}, files)
	assert.Contains(t, out, "verified")

	out, files, err = run(srv.URL+"/agent.jar", sum256("another jar"), trusted)
	require.Error(t, err)
	assert.Empty(t, files, "nothing is left behind")
	assert.Contains(t, out, "does not match the pinned sha256 (monitoring.jmxExporter.sha256); refusing it")

	untrusted := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(untrusted, nil, 0o644))
	out, files, err = run(srv.URL+"/agent.jar", sum256(jar), untrusted)
	require.Error(t, err)
	assert.Empty(t, files)
	assert.Contains(t, out, "jmx-exporter: could not download")

	// https only: the same bytes over plain HTTP are refused by curl itself.
	out, _, err = run("http://127.0.0.1:1/agent.jar", sum256(jar), trusted)
	require.Error(t, err)
	assert.Contains(t, out, "could not download")
}
