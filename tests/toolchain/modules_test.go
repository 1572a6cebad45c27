package toolchain

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// builtModules is module path -> version of every module that provides a package the module
// in dir compiles (its packages and their tests, with tags).
func builtModules(t *testing.T, dir, tags string) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-test", "-tags", tags,
		"-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}", "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "go list in %s: %s", dir, exitStderr(err))
	mods := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if path, version, ok := strings.Cut(line, " "); ok && version != "" {
			mods[path] = version
		}
	}
	return mods
}

func exitStderr(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}

// versionSkew lists each module both builds compile at different versions.
func versionSkew(product, e2e map[string]string) []string {
	var skew []string
	for path, v := range product {
		if w, ok := e2e[path]; ok && w != v {
			skew = append(skew, path+": product "+v+", tests/e2e "+w)
		}
	}
	sort.Strings(skew)
	return skew
}

// The end-to-end module (client-go, go-containerregistry) compiles every module it shares
// with the product at the product's version: a newer protobuf or compressor in tests/e2e alone
// would recompile the Pulumi SDKs (the gcp one is the slowest package of the build) for the
// e2e tiers on every cold machine. When client-go asks for a newer version, the product's
// go.mod takes it too.
func TestEndToEndModuleBuildsWhatTheProductBuilds(t *testing.T) {
	// Negative control: the comparison finds a skew when there is one.
	assert.Equal(t, []string{"google.golang.org/protobuf: product v1.36.11, tests/e2e v1.36.12"},
		versionSkew(map[string]string{"google.golang.org/protobuf": "v1.36.11", "only/product": "v1"},
			map[string]string{"google.golang.org/protobuf": "v1.36.12", "only/e2e": "v2"}))

	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	product := builtModules(t, root, "")
	e2e := builtModules(t, filepath.Join(root, "tests", "e2e"), "e2e realpods restore")
	require.Contains(t, product, "github.com/pulumi/pulumi-gcp/sdk/v7", "the product builds the gcp SDK")
	require.Contains(t, e2e, "github.com/pulumi/pulumi-gcp/sdk/v7", "tests/e2e builds the product, gcp SDK included")
	require.Contains(t, e2e, "k8s.io/client-go", "tests/e2e builds client-go")
	assert.Empty(t, versionSkew(product, e2e), "modules both builds compile, at different versions")
}
