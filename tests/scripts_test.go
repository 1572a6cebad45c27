package tests

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// need finds a tool the test runs, or fails in CI (which installs it) and skips elsewhere.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; .ci/run installs the Debian package %s", tool, pkg)
		}
		t.Skipf("%s not installed (Debian package %s); CI runs this test", tool, pkg)
	}
	return p
}

// fakeRepository serves jars and their .sha1 files the way Maven Central does, over TLS
// with a certificate of its own (see trustOnly).
func fakeRepository(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// trustOnly writes srv's certificate as the only CA curl trusts (CURL_CA_BUNDLE), as the
// image's CA bundle trusts Maven Central's.
func trustOnly(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	return f
}

func sum1(s string) string   { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func sum256(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// The driver download runs as it does in the pod: the very script, with curl (the API
// Manager image's) and POSIX tools (busybox's here, coreutils in the image), against real
// files over TLS that curl checks.
func TestJDBCFetchScriptVerifiesWhatItDownloads(t *testing.T) {
	busybox := need(t, "busybox", "busybox-static")
	curl := need(t, "curl", "curl")
	const jar = "PK\x03\x04 a jar's bytes"
	srv := fakeRepository(t, map[string]string{
		"/good.jar": jar, "/good.jar.sha1": sum1(jar) + "\n",
		"/tampered.jar": jar + "!", "/tampered.jar.sha1": sum1(jar),
		"/nochecksum.jar": jar,
		"/garbage.jar":    jar, "/garbage.jar.sha1": "<html>not found</html>",
	})
	bin := t.TempDir()
	for _, applet := range []string{"sha256sum", "sha1sum", "tr", "cut", "mv", "rm", "printf", "echo", "cat"} {
		require.NoError(t, os.Symlink(busybox, filepath.Join(bin, applet)))
	}
	require.NoError(t, os.Symlink(curl, filepath.Join(bin, "curl")))
	trusted := trustOnly(t, srv)
	run := func(url, pin, caBundle string) (string, bool, error) {
		dir := t.TempDir()
		cmd := exec.Command(busybox, "sh", "-c", apim.JDBCFetchScript)
		cmd.Env = []string{"PATH=" + bin, "JDBC_DRIVER_DIR=" + dir, "JDBC_DRIVER_URL=" + srv.URL + url, "CURL_CA_BUNDLE=" + caBundle}
		if pin != "" {
			cmd.Env = append(cmd.Env, "JDBC_DRIVER_SHA256="+pin)
		}
		out, err := cmd.CombinedOutput()
		entries, _ := os.ReadDir(dir)
		placed := false
		for _, e := range entries {
			if e.Name() == "mysql-connector-j.jar" {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				placed = string(b) == jar
				continue
			}
			assert.Fail(t, "nothing but the verified jar is left behind", e.Name())
		}
		return string(out), placed, err
	}

	out, placed, err := run("/good.jar", sum256(jar), trusted)
	require.NoError(t, err, out)
	assert.True(t, placed)
	assert.Contains(t, out, "against the pinned sha256 (apim.jdbcDriver.sha256)", "the pod log says which check it used")

	// TLS is checked: a server whose certificate no trusted CA issued gets nothing through,
	// even with the right sum pinned.
	untrusted := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(untrusted, nil, 0o644))
	out, placed, err = run("/good.jar", sum256(jar), untrusted)
	require.Error(t, err)
	assert.False(t, placed)
	assert.Contains(t, out, "jdbc-driver: could not download")

	out, placed, err = run("/good.jar", sum256("another jar"), trusted)
	require.Error(t, err)
	assert.False(t, placed)
	assert.Contains(t, out, "does not match the pinned sha256 (apim.jdbcDriver.sha256); refusing it")

	out, placed, err = run("/good.jar", "", trusted)
	require.NoError(t, err, out)
	assert.True(t, placed)
	assert.Contains(t, out, "good.jar.sha1 published beside it")

	out, placed, err = run("/tampered.jar", "", trusted)
	require.Error(t, err)
	assert.False(t, placed)
	assert.Contains(t, out, "tampered.jar does not match")

	for _, url := range []string{"/nochecksum.jar", "/garbage.jar"} {
		out, placed, err = run(url, "", trusted)
		require.Error(t, err, url)
		assert.False(t, placed, url)
		assert.Contains(t, out, "pin apim.jdbcDriver.sha256 instead", url)
	}
}

// The control plane node's init container picks its own deployment.toml by the ordinal that
// ends the pod's name, and refuses a node the ConfigMap has no file for.
func TestNodeConfigScriptPicksTheNodesFile(t *testing.T) {
	busybox := need(t, "busybox", "busybox-static")
	conf, out := t.TempDir(), t.TempDir()
	for i, body := range []string{"node zero", "node one"} {
		require.NoError(t, os.WriteFile(filepath.Join(conf, fmt.Sprintf("deployment-%d.toml", i)), []byte(body), 0o644))
	}
	bin := t.TempDir()
	for _, applet := range []string{"cp", "echo"} {
		require.NoError(t, os.Symlink(busybox, filepath.Join(bin, applet)))
	}
	run := func(pod string) (string, error) {
		cmd := exec.Command(busybox, "sh", "-c", apim.NodeConfigScript)
		cmd.Env = []string{"PATH=" + bin, "POD_NAME=" + pod, "CONF_DIR=" + conf, "OUT_DIR=" + out}
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	msg, err := run("apim-cp-1")
	require.NoError(t, err, msg)
	got, _ := os.ReadFile(filepath.Join(out, "deployment.toml"))
	assert.Equal(t, "node one", string(got))
	assert.Contains(t, msg, "node-config: apim-cp-1 runs as node 1")
	msg, err = run("apim-cp-2")
	require.Error(t, err)
	assert.Contains(t, msg, "node-config: no deployment.toml for node 2 of apim-cp-2")
}

// tools/pin-jdbc-driver.sh downloads the jar the stack would use, checks it against the
// repository's .sha1 and sets its sha256 with the Pulumi CLI (a recording stand-in here).
func TestPinJDBCDriverScript(t *testing.T) {
	need(t, "curl", "curl")
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	const jar = "PK\x03\x04 connector"
	path := "/com/mysql/mysql-connector-j/" + apim.DefaultJDBCDriverVersion + "/mysql-connector-j-" + apim.DefaultJDBCDriverVersion + ".jar"
	for _, tc := range []struct {
		name, sha1 string
		ok         bool
	}{{"matching", sum1(jar), true}, {"mismatching", sum1("other"), false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeRepository(t, map[string]string{path: jar, path + ".sha1": tc.sha1})
			dir := t.TempDir()
			calls := filepath.Join(dir, "calls")
			fake := filepath.Join(dir, "pulumi")
			// `config get` finds nothing set, so the default version is used.
			require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho \"$*\" >> "+calls+"\n[ \"$2\" = get ] && exit 1\nexit 0\n"), 0o755))
			cmd := exec.Command(filepath.Join(root, "tools", "pin-jdbc-driver.sh"), "prod")
			cmd.Env = append(os.Environ(), "PULUMI="+fake, "MAVEN_CENTRAL="+srv.URL, "CURL_CA_BUNDLE="+trustOnly(t, srv))
			out, err := cmd.CombinedOutput()
			recorded, _ := os.ReadFile(calls)
			set := "config set --path apim.jdbcDriver.sha256 " + sum256(jar) + " --stack prod"
			if tc.ok {
				require.NoError(t, err, string(out))
				assert.Contains(t, string(recorded), set)
			} else {
				require.Error(t, err)
				assert.Contains(t, string(out), "does not match")
				assert.NotContains(t, string(recorded), "config set")
			}
		})
	}
}

// script is one shell script the product renders, and the shell it runs in.
type script struct{ where, shell, text string }

// renderedScripts collects every shell script in a graph: container commands run with sh -c
// or bash -c (of workloads, Jobs and CronJobs), MySQL's init script, the NFS VM's startup script.
func renderedScripts(g *harness.Graph) []script {
	var out []script
	for _, r := range g.All() {
		for _, field := range []string{"spec.template.spec.containers", "spec.template.spec.initContainers",
			"spec.jobTemplate.spec.template.spec.containers", "spec.jobTemplate.spec.template.spec.initContainers"} {
			cs, _ := r.Get(field).([]any)
			for _, c := range cs {
				cmd, _ := c.(map[string]any)["command"].([]any)
				if len(cmd) == 3 && cmd[1] == "-c" && (cmd[0] == "sh" || cmd[0] == "bash") {
					out = append(out, script{fmt.Sprintf("%s %s %s", r.Type, r.Name, c.(map[string]any)["name"]), cmd[0].(string), cmd[2].(string)})
				}
			}
		}
		if r.Type == typeConfigMap {
			data, _ := r.Get("data").(map[string]any)
			for k, v := range data {
				if strings.HasSuffix(k, ".sh") {
					out = append(out, script{r.Name + " " + k, "sh", v.(string)})
				}
			}
		}
		if s := r.String("metadata[startup-script]"); r.Type == typeInstance && s != "" {
			out = append(out, script{r.Name + " startup-script", "bash", s})
		}
	}
	return out
}

// Every shell script the product renders, and every script in the repository, passes
// shellcheck: a script that fails only in a pod fails a rollout.
func TestShellcheckEveryScript(t *testing.T) {
	shellcheck := need(t, "shellcheck", "shellcheck")
	seen := map[string]script{}
	for _, stack := range stackNames {
		for _, mode := range []string{"opensearch", "moesif", "none"} {
			for _, s := range renderedScripts(run(t, stack, map[string]any{"analytics.mode": mode})) {
				seen[s.shell+"\x00"+s.text] = s
			}
		}
	}
	var kinds []string
	for _, s := range seen {
		kinds = append(kinds, s.where)
	}
	sort.Strings(kinds)
	t.Logf("rendered scripts: %s", strings.Join(kinds, "; "))
	require.GreaterOrEqual(t, len(seen), 5, "the JDBC fetch, schema copy, MySQL init, directory setup and VM startup scripts at least")
	dir := t.TempDir()
	i := 0
	for _, s := range seen {
		i++
		f := filepath.Join(dir, fmt.Sprintf("script-%d.sh", i))
		require.NoError(t, os.WriteFile(f, []byte(s.text), 0o644))
		out, err := exec.Command(shellcheck, "--shell", s.shell, "--severity", "style", f).CombinedOutput()
		assert.NoError(t, err, "%s:\n%s", s.where, out)
	}

	root, err := harness.RepoRoot()
	require.NoError(t, err)
	files, err := exec.Command("git", "-C", root, "ls-files", "*.sh", ".ci/run").Output()
	require.NoError(t, err)
	for _, f := range strings.Fields(string(files)) {
		// Warnings and errors: style notes such as "unreachable" on trap handlers are noise.
		out, err := exec.Command(shellcheck, "--severity", "warning", "-x", filepath.Join(root, f)).CombinedOutput()
		assert.NoError(t, err, "%s:\n%s", f, out)
	}
}
