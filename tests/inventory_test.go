package tests

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the golden inventories: go test ./tests/ -run TestInventory -update
var update = flag.Bool("update", false, "rewrite tests/testdata/inventory-<stack>.txt from the current program")

// TestInventory holds every stack's resource inventory (type, name, parent) in a golden file,
// so a pull request's diff shows exactly which resources it adds, removes or renames (a rename
// replaces real infrastructure unless it comes with an alias).
func TestInventory(t *testing.T) {
	for _, stack := range stackNames {
		t.Run(stack, func(t *testing.T) {
			got := strings.Join(run(t, stack, nil).Inventory(), "\n") + "\n"
			path := filepath.Join("testdata", "inventory-"+stack+".txt")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden inventory; create it with: go test ./tests/ -run TestInventory -update")
			if added, removed := lineDiff(string(want), got); len(added)+len(removed) > 0 {
				t.Errorf("the %s stack's resources changed; if that is intended, run: go test ./tests/ -run TestInventory -update\n"+
					"added:\n  %s\nremoved:\n  %s", stack, strings.Join(added, "\n  "), strings.Join(removed, "\n  "))
			}
		})
	}
}

// lineDiff returns the lines only in got (added) and only in want (removed).
func lineDiff(want, got string) (added, removed []string) {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	for l := range g {
		if !w[l] {
			added = append(added, l)
		}
	}
	for l := range w {
		if !g[l] {
			removed = append(removed, l)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

// The golden comparison must notice a removed or renamed resource, or it guards nothing.
func TestInventoryDetectsChanges(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "inventory-dev.txt"))
	require.NoError(t, err)
	without := strings.Join(run(t, "dev", map[string]any{"backend.enabled": false}).Inventory(), "\n") + "\n"
	added, removed := lineDiff(string(want), without)
	assert.Empty(t, added)
	assert.Contains(t, removed, "kubernetes:apps/v1:Deployment apim-hello parent=wso2apim:backend:Backend::apim-hello")
	assert.Contains(t, string(want), "kubernetes:apps/v1:Deployment apim-hello parent=wso2apim:backend:Backend::apim-hello")
	assert.NotContains(t, without, "Deployment apim-hello")
}
