package tests

import (
	"flag"
	"os"
	"path/filepath"
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
			assert.Equal(t, string(want), got,
				"the %s stack's resources changed; if that is intended, run: go test ./tests/ -run TestInventory -update", stack)
		})
	}
}

// The golden comparison must notice a removed or renamed resource, or it guards nothing.
func TestInventoryDetectsChanges(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "inventory-dev.txt"))
	require.NoError(t, err)
	without := strings.Join(run(t, "dev", map[string]any{"backend.enabled": false}).Inventory(), "\n") + "\n"
	assert.NotEqual(t, string(want), without)
	assert.Contains(t, string(want), "kubernetes:apps/v1:Deployment hello parent=wso2apim:backend:Backend::hello")
	assert.NotContains(t, without, "Deployment hello")
}
