package sdktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/stretchr/testify/require"
)

// The TypeScript SDK a user gets from `pulumi package add` type-checks with tsc against the
// @pulumi/pulumi from npm, and so does the TypeScript example of docs/components.md. Pins: package.json; the
// schema is ../schema.json, which the plugin's tests hold equal to what it serves.
//
// The SDK comes from `pulumi package gen-sdk --language nodejs` when the CLI and its Node.js
// language host are on PATH; otherwise from the code generator that language host runs
// (github.com/pulumi/pulumi/pkg/v3/codegen/nodejs), in process. The test skips only when npm
// cannot reach its registry, and says so loudly.
func TestTypeScriptSDKTypeChecks(t *testing.T) {
	deps := npmDependencies(t)
	work := t.TempDir()
	sdk := filepath.Join(work, "sdk")
	src, err := os.ReadFile(filepath.Join("..", "schema.json"))
	require.NoError(t, err)
	how := generateWithCLI(t, src, work)
	if how == "" {
		generateInProcess(t, src, sdk)
		how = "codegen/nodejs.GeneratePackage (the Node.js language host's generator), in process"
	}
	t.Logf("TypeScript SDK from %s", how)

	example := docExample(t, "typescript")
	require.NoError(t, os.WriteFile(filepath.Join(work, "example.ts"), []byte(example), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(deps, "node_modules"), filepath.Join(work, "node_modules")))
	tsconfig := map[string]any{
		"compilerOptions": map[string]any{
			"strict": true, "noEmit": true, "target": "ES2020", "module": "commonjs", "moduleResolution": "node",
			"esModuleInterop": true, "skipLibCheck": true, "baseUrl": ".",
			// The example imports the package by its npm name.
			"paths": map[string]any{"@wso2-k8s/wso2apim": []string{"./sdk"}},
		},
		"include": []string{"sdk/**/*.ts", "example.ts"},
	}
	b, err := json.Marshal(tsconfig)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(work, "tsconfig.json"), b, 0o644))
	tsc := exec.Command(filepath.Join(deps, "node_modules", ".bin", "tsc"), "-p", work)
	out, err := tsc.CombinedOutput()
	require.NoError(t, err, "tsc:\n%s", out)
}

// npmDependencies installs sdk-test/package.json's pins once into a cache directory keyed by
// that file, and returns the directory. It skips the test, loudly, when npm is missing or its
// registry unreachable; any other failure fails it.
func npmDependencies(t *testing.T) string {
	t.Helper()
	pkg, err := os.ReadFile("package.json")
	require.NoError(t, err)
	sum := sha256.Sum256(pkg)
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "wso2-apim-sdk-test", hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "tsc")); err == nil {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		// As the other tool-bound tests: CI must run it (tests/scripts_test.go, need).
		if os.Getenv("CI") != "" {
			t.Fatal("npm is missing; .ci/run installs the Debian package npm")
		}
		skipLoudly(t, "npm is not installed")
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(dir), 0o755))
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	require.NoError(t, err)
	defer os.RemoveAll(tmp)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// No lockfile: it would record the registry's address.
	cmd := exec.CommandContext(ctx, npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		if unreachable.Match(out) {
			skipLoudly(t, "npm cannot reach its registry:\n"+string(out))
		}
		t.Fatalf("npm install: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(dir); statErr != nil {
			t.Fatalf("installing into %s: %v", dir, err)
		}
	}
	return dir
}

// unreachable matches npm's network errors.
var unreachable = regexp.MustCompile(`ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network`)

func skipLoudly(t *testing.T, why string) {
	t.Helper()
	msg := "\n******************************************************************\n" +
		"SKIPPED: the TypeScript SDK was NOT type-checked: " + why +
		"\n******************************************************************\n"
	fmt.Fprint(os.Stderr, msg)
	t.Skip(msg)
}

// generateWithCLI runs `pulumi package gen-sdk` when the CLI and its Node.js language host are
// on PATH, and says what it ran ("" when it could not).
func generateWithCLI(t *testing.T, schema []byte, work string) string {
	t.Helper()
	cli, err := exec.LookPath("pulumi")
	if err != nil {
		return ""
	}
	if _, err := exec.LookPath("pulumi-language-nodejs"); err != nil {
		return ""
	}
	path := filepath.Join(work, "schema.json")
	require.NoError(t, os.WriteFile(path, schema, 0o644))
	cmd := exec.Command(cli, "package", "gen-sdk", path, "--language", "nodejs", "--out", filepath.Join(work, "gen"))
	cmd.Env = append(os.Environ(), "PULUMI_SKIP_UPDATE_CHECK=true")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "pulumi package gen-sdk:\n%s", out)
	require.NoError(t, os.Rename(filepath.Join(work, "gen", "nodejs"), filepath.Join(work, "sdk")))
	return "pulumi package gen-sdk (" + cli + ")"
}

func generateInProcess(t *testing.T, schema []byte, out string) {
	t.Helper()
	var spec pschema.PackageSpec
	require.NoError(t, json.Unmarshal(schema, &spec))
	// BindSpec validates the schema against Pulumi's metaschema as well.
	pkg, diags, err := pschema.BindSpec(spec, noReferences{}, pschema.ValidationOptions{})
	require.NoError(t, err)
	require.False(t, diags.HasErrors(), "schema: %v", diags)
	require.NoError(t, pkg.ImportLanguages(map[string]pschema.Language{"nodejs": nodejs.Importer}))
	files, err := nodejs.GeneratePackage("pulumi-resource-wso2apim", pkg, nil, nil, false, noReferences{})
	require.NoError(t, err)
	for name, content := range files {
		p := filepath.Join(out, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, content, 0o644))
	}
}

// docExample is the code block of a language in docs/components.md's "Use it from TypeScript,
// Python or YAML".
func docExample(t *testing.T, lang string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "components.md"))
	require.NoError(t, err)
	_, section, ok := bytes.Cut(b, []byte("\n## Use it from TypeScript, Python or YAML\n"))
	require.True(t, ok, "docs/components.md has no section \"Use it from TypeScript, Python or YAML\"")
	if end := bytes.Index(section, []byte("\n## ")); end >= 0 {
		section = section[:end]
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(section)
	require.NotNil(t, m, "the section has no ```%s block", lang)
	return strings.TrimSpace(string(m[1])) + "\n"
}

// noReferences is the schema loader for a package that refers to no other package.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*pschema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %s; it should refer to none", pkg)
}

func (l noReferences) LoadPackageV2(_ context.Context, d *pschema.PackageDescriptor) (*pschema.Package, error) {
	return l.LoadPackage(d.Name, nil)
}

func (l noReferences) LoadPackageReference(pkg string, v *semver.Version) (pschema.PackageReference, error) {
	_, err := l.LoadPackage(pkg, v)
	return nil, err
}

func (l noReferences) LoadPackageReferenceV2(_ context.Context, d *pschema.PackageDescriptor) (pschema.PackageReference, error) {
	return l.LoadPackageReference(d.Name, nil)
}
