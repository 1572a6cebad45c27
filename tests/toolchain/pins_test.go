package toolchain

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goMod reads the require and replace lines of a go.mod: module path -> version (a replace
// with a version wins, as it does for the go command).
func goMod(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	mods := map[string]string{}
	block := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 2 && fields[1] == "(":
			block = fields[0]
			continue
		case fields[0] == ")":
			block = ""
			continue
		case fields[0] == "require" || fields[0] == "replace":
			block, fields = fields[0], fields[1:]
			defer func() { block = "" }()
		}
		switch {
		case block == "require" && len(fields) == 2:
			if _, replaced := mods[fields[0]+" replaced"]; !replaced {
				mods[fields[0]] = fields[1]
			}
		case block == "replace" && len(fields) == 4 && fields[1] == "=>":
			mods[fields[0]] = fields[3]
			mods[fields[0]+" replaced"] = fields[3]
		}
	}
	require.NoError(t, s.Err())
	return mods
}

// Every version the e2e tools use is pinned in versions.env, and the Go modules that build the
// same tools (and the SDK that asks for the provider) agree with it.
func TestToolVersionsPinnedOnce(t *testing.T) {
	v := versions(t)
	for _, k := range []string{"PULUMI_VERSION", "PULUMI_YAML_VERSION", "K8S_PROVIDER_VERSION", "K8S_PROVIDER_MODULE", "KUBE_VERSION", "ETCD_VERSION", "METRICS_SERVER_VERSION"} {
		require.NotEmpty(t, v[k], "versions.env sets %s", k)
	}
	tools := filepath.Join(root, "tests", "e2e", "tools")

	kube := goMod(t, filepath.Join(tools, "kube", "go.mod"))
	assert.Equal(t, v["KUBE_VERSION"], kube["k8s.io/kubernetes"], "tools/kube builds kube-apiserver at KUBE_VERSION")
	assert.Equal(t, v["ETCD_VERSION"], kube["go.etcd.io/etcd/server/v3"], "tools/kube builds etcd at ETCD_VERSION")
	staging := "v0" + strings.TrimPrefix(v["KUBE_VERSION"], "v1")
	for mod, version := range kube {
		if strings.HasPrefix(mod, "k8s.io/") && strings.HasSuffix(mod, " replaced") {
			assert.Equal(t, staging, version, "%s in tools/kube", mod)
		}
	}

	pulumi := goMod(t, filepath.Join(tools, "pulumi", "go.mod"))
	assert.Equal(t, v["PULUMI_VERSION"], pulumi["github.com/pulumi/pulumi/pkg/v3"], "tools/pulumi builds PULUMI_VERSION")

	pyaml := goMod(t, filepath.Join(tools, "pulumi-yaml", "go.mod"))
	assert.Equal(t, v["PULUMI_YAML_VERSION"], pyaml["github.com/pulumi/pulumi-yaml"], "tools/pulumi-yaml builds PULUMI_YAML_VERSION")

	provider := goMod(t, filepath.Join(tools, "kubernetes-provider", "go.mod"))
	assert.Equal(t, v["K8S_PROVIDER_MODULE"], provider["github.com/pulumi/pulumi-kubernetes/provider/v4"])

	// The real-pods tier's metrics-server, at its release's own dependency versions.
	ms := goMod(t, filepath.Join(tools, "metrics-server", "go.mod"))
	assert.Equal(t, v["METRICS_SERVER_VERSION"], ms["sigs.k8s.io/metrics-server"], "tools/metrics-server builds METRICS_SERVER_VERSION")

	product := goMod(t, filepath.Join(root, "go.mod"))
	assert.Equal(t, v["K8S_PROVIDER_VERSION"], product["github.com/pulumi/pulumi-kubernetes/sdk/v4"],
		"the provider the engine runs is the one the SDK asks for")

	// No script spells a pinned version out again.
	scripts, err := filepath.Glob(filepath.Join(root, "tests", "e2e", "*.sh"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join(root, "tests", "e2e", "env", "*.sh"))
	require.NoError(t, err)
	scripts = append(append(scripts, more...), filepath.Join(root, ".ci", "run"), filepath.Join(root, "Makefile"))
	for _, path := range scripts {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for k, version := range v {
			bare := strings.TrimPrefix(version, "v")
			assert.False(t, strings.Contains(string(b), bare), "%s repeats %s (%s); read it from versions.env", path, k, bare)
		}
	}
}
