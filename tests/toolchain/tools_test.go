package toolchain

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// root is the repository root, from this package's directory (go test runs tests there).
var root = filepath.Join("..", "..")

// versions reads tests/e2e/env/versions.env (KEY=VALUE lines; # comments).
func versions(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "tests", "e2e", "env", "versions.env"))
	require.NoError(t, err)
	defer f.Close()
	v := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		require.True(t, ok, "versions.env: %q is not KEY=VALUE", line)
		v[k] = val
	}
	require.NoError(t, s.Err())
	return v
}

// fakeBinary is a script that prints out, standing in for a released or built tool.
func fakeBinary(out string) []byte { return []byte("#!/bin/sh\necho '" + out + "'\n") }

func tarGz(t *testing.T, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range members {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// releases is a fake of the release pages tools.sh reads, in their own formats: kubectl as a
// bare binary with a .sha256 (dl.k8s.io), etcd inside controller-tools' envtest archive with
// its sha512 in envtest-releases.yaml, and the Pulumi CLI archive with a checksums.txt.
type releases struct {
	v        map[string]string
	binaries map[string][]byte // tool -> the binary the release ships
	files    map[string][]byte // URL path -> body
	mu       sync.Mutex
	fetched  []string
}

func arches() (arch, pulumiArch string) {
	switch runtime.GOARCH {
	case "amd64":
		return "amd64", "x64"
	default:
		return runtime.GOARCH, runtime.GOARCH
	}
}

// newReleases builds the fake release; with tampered, every archive served differs from the
// one its checksum file describes (as a corrupted or substituted download would).
func newReleases(t *testing.T, v map[string]string, tampered bool) *releases {
	kube, pulumi, etcd, pyaml := v["KUBE_VERSION"], v["PULUMI_VERSION"], v["ETCD_VERSION"], v["PULUMI_YAML_VERSION"]
	arch, parch := arches()
	r := &releases{v: v, files: map[string][]byte{}, binaries: map[string][]byte{
		"kubectl":              fakeBinary("Client Version: " + kube + " (release)"),
		"etcd":                 fakeBinary("etcd Version: " + strings.TrimPrefix(etcd, "v") + " (release)"),
		"pulumi":               fakeBinary(pulumi + " (release)"),
		"pulumi-language-yaml": fakeBinary("pulumi-language-yaml " + pyaml + " (release)"),
	}}
	serve := func(path string, body []byte) []byte {
		published := body
		if tampered {
			body = append(append([]byte{}, body...), []byte("# tampered\n")...)
		}
		r.files[path] = body
		return published
	}

	kubectl := serve("/k8s/"+kube+"/bin/linux/"+arch+"/kubectl", r.binaries["kubectl"])
	r.files["/k8s/"+kube+"/bin/linux/"+arch+"/kubectl.sha256"] = fmt.Appendf(nil, "%x", sha256.Sum256(kubectl))

	envtestName := "envtest-" + kube + "-linux-" + arch + ".tar.gz"
	envtest := serve("/envtest/envtest-"+kube+"/"+envtestName, tarGz(t, map[string][]byte{
		"controller-tools/envtest/etcd":           r.binaries["etcd"],
		"controller-tools/envtest/kube-apiserver": fakeBinary("Kubernetes " + kube),
	}))
	other := sha512.Sum512([]byte("another release"))
	r.files["/envtest-releases.yaml"] = fmt.Appendf(nil, `releases:
  v1.0.0:
    envtest-v1.0.0-linux-%[1]s.tar.gz:
      hash: %[2]x
      selfLink: https://example.invalid/envtest-v1.0.0-linux-%[1]s.tar.gz
  %[3]s:
    %[4]s:
      hash: %[5]x
      selfLink: https://example.invalid/%[4]s
`, arch, other, kube, envtestName, sha512.Sum512(envtest))

	pulumiName := "pulumi-" + pulumi + "-linux-" + parch + ".tar.gz"
	pulumiTar := serve("/pulumi/"+pulumi+"/"+pulumiName, tarGz(t, map[string][]byte{
		"pulumi/pulumi":               r.binaries["pulumi"],
		"pulumi/pulumi-language-yaml": fakeBinary("yaml"),
	}))
	r.files["/pulumi/"+pulumi+"/pulumi-"+strings.TrimPrefix(pulumi, "v")+"-checksums.txt"] = fmt.Appendf(nil,
		"%x  pulumi-%s-windows-x64.zip\n%x  %s\n", sha256.Sum256([]byte("zip")), pulumi, sha256.Sum256(pulumiTar), pulumiName)

	// pulumi-yaml's goreleaser layout: the binary at the archive's root, one checksums file.
	yamlName := "pulumi-language-yaml-" + pyaml + "-linux-" + arch + ".tar.gz"
	yamlTar := serve("/pulumi-yaml/"+pyaml+"/"+yamlName, tarGz(t, map[string][]byte{
		"pulumi-language-yaml": r.binaries["pulumi-language-yaml"],
		"LICENSE":              []byte("license"),
	}))
	r.files["/pulumi-yaml/"+pyaml+"/pulumi-yaml-"+strings.TrimPrefix(pyaml, "v")+"-checksums.txt"] = fmt.Appendf(nil,
		"%x  pulumi-converter-yaml-%s-linux-%s.tar.gz\n%x  %s\n", sha256.Sum256([]byte("converter")), pyaml, arch, sha256.Sum256(yamlTar), yamlName)
	return r
}

func (r *releases) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.fetched = append(r.fetched, req.URL.Path)
	r.mu.Unlock()
	body, ok := r.files[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(body)
}

// fakeBuild stands in for `go build` (E2E_TOOLS_BUILD): it writes, for each package, a script
// that reports every pinned version, and logs its call to $FAKE_BUILD_LOG.
const fakeBuild = `#!/bin/sh
out=$1; shift
echo "$PWD $*" >>"$FAKE_BUILD_LOG"
# FAKE_BUILD_PACKAGES: a slow build, one package compiled every half second, as go build -v says.
i=0
while [ "$i" -lt "${FAKE_BUILD_PACKAGES:-0}" ]; do echo "example.com/slow/pkg$i"; sleep 0.5; i=$((i + 1)); done
for p in "$@"; do
  case $out in */) f=$out$(basename "$p") ;; *) f=$out ;; esac
  printf '#!/bin/sh\necho "built from source: %s (%s)"\n' "$p" "$FAKE_VERSIONS" >"$f"
  chmod +x "$f"
done
`

type run struct {
	cache, buildLog, timings string
	stdout, stderr           string
	err                      error
}

// runTools runs tools.sh for the named tools against base (the fake release server's URL),
// with a fresh cache unless cache is given.
func runTools(t *testing.T, v map[string]string, base, cache string, extraEnv []string, names ...string) run {
	t.Helper()
	dir := t.TempDir()
	if cache == "" {
		cache = filepath.Join(dir, "cache")
	}
	builder := filepath.Join(dir, "fake-go-build")
	require.NoError(t, os.WriteFile(builder, []byte(fakeBuild), 0o755))
	r := run{cache: cache, buildLog: filepath.Join(dir, "build.log"), timings: filepath.Join(dir, "timings.jsonl")}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "E2E_") && !strings.HasPrefix(kv, "WSO2_APIM_E2E_CACHE=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"WSO2_APIM_E2E_CACHE="+cache,
		"E2E_RELEASE_K8S="+base+"/k8s",
		"E2E_RELEASE_ENVTEST="+base+"/envtest",
		"E2E_RELEASE_ENVTEST_INDEX="+base+"/envtest-releases.yaml",
		"E2E_RELEASE_PULUMI="+base+"/pulumi",
		"E2E_RELEASE_PULUMI_YAML="+base+"/pulumi-yaml",
		"E2E_RELEASE_PULUMI_KUBERNETES="+base+"/pulumi-kubernetes",
		"E2E_TOOLS_BUILD="+builder,
		"E2E_TOOLS_CONNECT_TIMEOUT=2",
		"E2E_TIMINGS="+r.timings,
		"FAKE_BUILD_LOG="+r.buildLog,
		"FAKE_VERSIONS="+v["KUBE_VERSION"]+" "+v["ETCD_VERSION"]+" "+v["PULUMI_VERSION"],
	)
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "tests", "e2e", "env", "tools.sh")}, names...)...)
	cmd.Env = append(env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r.err = cmd.Run()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	t.Logf("tools.sh %v:\n%s", names, r.stderr)
	return r
}

func (r run) installed(t *testing.T, name, version string) (body []byte, source string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(r.cache, name+"-"+version, name))
	require.NoError(t, err, "%s %s not installed", name, version)
	src, err := os.ReadFile(filepath.Join(r.cache, name+"-"+version, "SOURCE"))
	require.NoError(t, err)
	return body, string(src)
}

func (r run) builds(t *testing.T) string {
	b, err := os.ReadFile(r.buildLog)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(b)
}

var tested = []string{"etcd", "kubectl", "pulumi", "pulumi-language-yaml"}

func versionOf(v map[string]string, tool string) string {
	return map[string]string{"etcd": v["ETCD_VERSION"], "kubectl": v["KUBE_VERSION"], "pulumi": v["PULUMI_VERSION"],
		"pulumi-language-yaml": v["PULUMI_YAML_VERSION"]}[tool]
}

// A release whose checksum matches is taken as is, and nothing is built.
func TestToolsTakeVerifiedRelease(t *testing.T) {
	v := versions(t)
	rel := newReleases(t, v, false)
	srv := httptest.NewServer(rel)
	defer srv.Close()

	r := runTools(t, v, srv.URL, "", nil, tested...)
	require.NoError(t, r.err)
	assert.Equal(t, filepath.Join(r.cache, "bin"), strings.TrimSpace(r.stdout))
	for _, tool := range tested {
		body, source := r.installed(t, tool, versionOf(v, tool))
		assert.Equal(t, rel.binaries[tool], body, "%s is the released binary", tool)
		assert.True(t, strings.HasPrefix(source, "release "+srv.URL), "%s SOURCE: %s", tool, source)
		link, err := filepath.EvalSymlinks(filepath.Join(r.cache, "bin", tool))
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(r.cache, tool+"-"+versionOf(v, tool), tool), link)
	}
	assert.Empty(t, r.builds(t), "nothing is built when the releases verify")
	assert.NotContains(t, r.stderr, "REFUSED")

	// Every download is timed in the machine-readable timings.
	b, err := os.ReadFile(r.timings)
	require.NoError(t, err)
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Suite   string   `json:"suite"`
			Step    string   `json:"step"`
			Seconds *float64 `json:"seconds"`
			OK      *bool    `json:"ok"`
			Source  string   `json:"source"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		require.NotNil(t, rec.Seconds, line)
		require.NotNil(t, rec.OK, line)
		assert.True(t, *rec.OK, line)
		assert.Equal(t, "release", rec.Source, line)
		steps = append(steps, rec.Step)
	}
	assert.ElementsMatch(t, []string{"tool etcd", "tool kubectl", "tool pulumi", "tool pulumi-language-yaml"}, steps)

	// A second run takes everything from the cache: no release, no build.
	srv.Close()
	again := runTools(t, v, srv.URL, r.cache, []string{"E2E_TOOLS_BUILD=false"}, tested...)
	require.NoError(t, again.err)
	for _, tool := range tested {
		body, _ := again.installed(t, tool, versionOf(v, tool))
		assert.Equal(t, rel.binaries[tool], body)
	}
}

// A release that does not match its published checksum is refused, nothing of it is
// installed, and the tools are built instead.
func TestToolsRefuseWrongChecksum(t *testing.T) {
	v := versions(t)
	rel := newReleases(t, v, true)
	srv := httptest.NewServer(rel)
	defer srv.Close()

	r := runTools(t, v, srv.URL, "", nil, tested...)
	require.NoError(t, r.err)
	for _, tool := range tested {
		assert.Contains(t, r.stderr, "REFUSED "+tool+":")
		body, source := r.installed(t, tool, versionOf(v, tool))
		assert.Contains(t, string(body), "built from source", tool)
		assert.True(t, strings.HasPrefix(source, "build tests/e2e/tools/"), "%s SOURCE: %s", tool, source)
	}
	builds := r.builds(t)
	assert.Contains(t, builds, "./etcd k8s.io/kubernetes/cmd/kubectl", "one build for the kube module")
	assert.Contains(t, builds, "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")
	assert.Contains(t, builds, "tests/e2e/tools/pulumi-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml")
	assert.Len(t, strings.Split(strings.TrimSpace(builds), "\n"), 3)
	assert.NotEmpty(t, rel.fetched, "the releases were tried")

	// Nothing anywhere in the cache holds a byte-identical copy of a refused download.
	served := map[string]bool{}
	for _, body := range rel.files {
		served[string(body)] = true
	}
	require.NoError(t, filepath.Walk(r.cache, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && served[string(b)] {
			t.Errorf("%s is a copy of a refused download", path)
		}
		return nil
	}))

	// With E2E_TOOLS_SOURCE=release a refused release is an error, not a build.
	strict := runTools(t, v, srv.URL, "", []string{"E2E_TOOLS_SOURCE=release"}, "kubectl")
	require.Error(t, strict.err)
	assert.Contains(t, strict.stderr, "REFUSED kubectl:")
	assert.Empty(t, strict.builds(t))
	_, err := os.Stat(filepath.Join(strict.cache, "kubectl-"+v["KUBE_VERSION"], "kubectl"))
	assert.True(t, os.IsNotExist(err), "nothing installed")
}

// With the release hosts unreachable, the tools are built, quickly and without complaint.
func TestToolsFallBackWhenUnreachable(t *testing.T) {
	v := versions(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now: connections are refused

	r := runTools(t, v, base, "", nil, tested...)
	require.NoError(t, r.err)
	assert.Contains(t, r.stderr, "unreachable")
	assert.NotContains(t, r.stderr, "REFUSED")
	for _, tool := range tested {
		body, source := r.installed(t, tool, versionOf(v, tool))
		assert.Contains(t, string(body), "built from source", tool)
		assert.True(t, strings.HasPrefix(source, "build "), source)
	}
	assert.Len(t, strings.Split(strings.TrimSpace(r.builds(t)), "\n"), 3)

	// E2E_TOOLS_SOURCE=build never touches the network.
	rel := newReleases(t, v, false)
	srv := httptest.NewServer(rel)
	defer srv.Close()
	offline := runTools(t, v, srv.URL, "", []string{"E2E_TOOLS_SOURCE=build"}, "kubectl")
	require.NoError(t, offline.err)
	assert.Empty(t, rel.fetched)
	body, _ := offline.installed(t, "kubectl", v["KUBE_VERSION"])
	assert.Contains(t, string(body), "built from source")
}
