package tests

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// configRefusal is a stack with settings the program must refuse, and the problem it must
// report among those it lists.
type configRefusal struct {
	name  string
	stack string
	set   map[string]any
	want  string
}

// expectConfigRefusals runs each case as its own subtest: the program fails with a
// *stacks.ConfigError naming tc.want, having registered nothing.
func expectConfigRefusals(t *testing.T, cases []configRefusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, tc.stack, harness.Options{Set: tc.set})
			require.Error(t, err)
			var cfgErr *stacks.ConfigError
			require.True(t, errors.As(err, &cfgErr), "%v", err)
			assert.Contains(t, cfgErr.Problems, tc.want)
			assert.Empty(t, g.All(), "invalid config registers nothing")
		})
	}
}
