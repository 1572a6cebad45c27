package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	policyrules "github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// A stack file states only what differs from the defaults: every setting it sets, once
// removed, resolves to another value (or to a config that is refused). A restated default
// drifts: the code's default moves on and the file silently pins the old one.
//
// prod states its protections and image versions although they are the defaults, on purpose:
// prod changes only by a change to its own file, never by a change of the product's defaults.
func TestStackFilesStateOnlyWhatDiffersFromTheDefaults(t *testing.T) {
	pinned := map[string][]string{"prod": {
		"cluster.deletionProtection", "cluster.secretsEncryption", "mysql.protect", "nfs.protect", "analytics.protect",
		"apim.image", "gateway.image", "mysql.image",
	}}
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	checked := 0
	for _, stack := range stackNames {
		project, cfg, err := harness.LoadStackConfig(root, stack)
		require.NoError(t, err)
		base, err := resolvedConfig(project, stack, cfg)
		require.NoError(t, err, stack)
		paths := settingPaths(cfg, "")
		for _, path := range pinned[stack] {
			assert.Contains(t, paths, path, "Pulumi.%s.yaml no longer pins %s: take it off the list", stack, path)
		}
		for _, path := range paths {
			if slices.Contains(pinned[stack], path) {
				continue
			}
			without := removePath(cfg, path)
			got, err := resolvedConfig(project, stack, without)
			checked++
			if err != nil {
				continue // needed: without it the stack is refused
			}
			set := policyrules.Lookup(base, path)
			assert.NotEqual(t, fmt.Sprint(set), fmt.Sprint(policyrules.Lookup(got, path)),
				"Pulumi.%s.yaml sets %s to %v, which is its default: remove it", stack, path, set)
		}
	}
	assert.Greater(t, checked, 40, "the stack files' settings were walked")
}

// resolvedConfig is the Platform's args as the program resolves them from cfg, as JSON values
// under the config's own key names.
func resolvedConfig(project, stack string, cfg map[string]any) (map[string]any, error) {
	var out map[string]any
	_, err := harness.RunWithConfig(func(ctx *pulumi.Context) error {
		a, err := stacks.LoadConfig(ctx, stacks.Name)
		if err != nil {
			return err
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &out)
	}, project, stack, cfg, harness.Options{})
	return out, err
}

// settingPaths lists the dotted paths of cfg's settings: every leaf of the project's keys
// (lists are one setting), provider keys such as gcp:region left out.
func settingPaths(v any, prefix string) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return []string{prefix}
	}
	var out []string
	for k, sub := range m {
		if _, object := sub.(map[string]any); prefix == "" && (strings.Contains(k, ":") || !object) {
			continue // a provider key (gcp:region) or a secret
		}
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, settingPaths(sub, p)...)
	}
	sort.Strings(out)
	return out
}

// removePath returns a copy of cfg without the setting at path.
func removePath(cfg map[string]any, path string) map[string]any {
	b, _ := json.Marshal(cfg)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	parts := strings.Split(path, ".")
	m := c
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	delete(m, parts[len(parts)-1])
	return c
}
