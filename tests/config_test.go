package tests

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Each case breaks one thing in a valid stack and names the exact message it must produce.
// Every case also proves that nothing was registered.
func TestInvalidConfigIsRejectedBeforeAnyResource(t *testing.T) {
	cases := []struct {
		name  string
		stack string
		set   map[string]any
		want  string
	}{
		{"min above max", "dev", map[string]any{"nodePool.minNodes": 5, "nodePool.maxNodes": 2},
			"nodePool.minNodes: 5 is greater than nodePool.maxNodes (2); want nodePool.minNodes <= nodePool.maxNodes"},
		{"unknown mode", "dev", map[string]any{"cluster.mode": "eks"},
			`cluster.mode: "eks" is not valid; use one of gke, existing`},
		{"missing project", "dev", map[string]any{"cluster.project": nil},
			"cluster.project: missing; cluster.mode gke needs the Google Cloud project ID"},
		{"missing region", "prod", map[string]any{"cluster.region": nil},
			"cluster.region: missing; cluster.mode gke needs a region such as europe-west1"},
		{"negative min", "dev", map[string]any{"nodePool.minNodes": -1},
			"nodePool.minNodes: -1 is not valid; want 0 or more"},
		{"zero max", "dev", map[string]any{"nodePool.minNodes": 0, "nodePool.maxNodes": 0},
			"nodePool.maxNodes: 0 is not valid; want 1 or more"},
		{"negative disk", "dev", map[string]any{"nodePool.diskSizeGb": -20},
			"nodePool.diskSizeGb: -20 is not valid; want 10 to 65536"},
		{"bad machine type", "dev", map[string]any{"nodePool.machineType": "E2 Standard"},
			`nodePool.machineType: "E2 Standard" is not valid; want a Compute Engine machine type such as e2-standard-4`},
		{"both limit pairs", "prod", map[string]any{"nodePool.totalMinNodes": 3, "nodePool.totalMaxNodes": 9},
			"nodePool: both per-zone (minNodes/maxNodes) and total (totalMinNodes/totalMaxNodes) limits are set; GKE accepts one pair only"},
		{"half a pair", "dev", map[string]any{"nodePool.maxNodes": nil},
			"nodePool.maxNodes: missing; set it together with nodePool.minNodes"},
		{"bad release channel", "dev", map[string]any{"cluster.releaseChannel": "beta"},
			`cluster.releaseChannel: "beta" is not valid; use one of RAPID, REGULAR, STABLE, EXTENDED`},
		{"bad location policy", "dev", map[string]any{"nodePool.locationPolicy": "SPREAD"},
			`nodePool.locationPolicy: "SPREAD" is not valid; use one of BALANCED, ANY`},
		{"zone outside region", "dev", map[string]any{"cluster.zone": "us-central1-a"},
			`cluster.zone: "us-central1-a" is not valid; want a zone of region "europe-west1" such as europe-west1-b, or nothing for a regional cluster`},
		{"bad cluster name", "dev", map[string]any{"cluster.name": "APIM_prod"},
			`cluster.name: "APIM_prod" is not valid; want 1-40 lower-case letters, digits or '-', starting with a letter`},
		{"master cidr not /28", "prod", map[string]any{"cluster.masterCidr": "172.16.0.0/24"},
			`cluster.masterCidr: "172.16.0.0/24" is not valid; GKE wants a /28`},
		{"overlapping ranges", "dev", map[string]any{"cluster.network.nodeCidr": "10.16.0.0/20"},
			"cluster.network.nodeCidr: 10.16.0.0/20 overlaps cluster.network.podCidr (10.16.0.0/14); the node, pod and service ranges must be disjoint"},
		{"not a cidr", "dev", map[string]any{"cluster.network.podCidr": "10.16.0.0"},
			`cluster.network.podCidr: "10.16.0.0" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"surge and unavailable zero", "dev", map[string]any{"nodePool.maxSurge": 0, "nodePool.maxUnavailable": 0},
			"nodePool.maxSurge: 0 together with nodePool.maxUnavailable 0 would block every node upgrade; set maxSurge to 1 or more"},
		{"misspelt key", "dev", map[string]any{"nodePool.maxNode": 4},
			`nodePool: unknown setting "maxNode"; see Pulumi.yaml or the README for the valid keys`},
		{"wrong type", "dev", map[string]any{"nodePool.maxNodes": "three"},
			"nodePool.maxNodes: got a string, want an integer"},
		{"bad label", "dev", map[string]any{"cluster.labels": map[string]any{"team": "Platform Eng"}},
			`cluster.labels.team: "Platform Eng" is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, tc.stack, harness.Options{Set: tc.set})
			require.Error(t, err)
			var cfgErr *stacks.ConfigError
			require.True(t, errors.As(err, &cfgErr), "want a *stacks.ConfigError, got %T: %v", err, err)
			assert.Contains(t, cfgErr.Problems, tc.want)
			assert.Empty(t, g.All(), "invalid config must register nothing")
		})
	}
}

func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	_, err := harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{
		"nodePool.minNodes": 5, "nodePool.maxNodes": 2, "cluster.releaseChannel": "beta", "cluster.project": nil,
	}})
	var cfgErr *stacks.ConfigError
	require.True(t, errors.As(err, &cfgErr))
	assert.Len(t, cfgErr.Problems, 3)
	assert.Contains(t, err.Error(), `invalid config for stack "dev" (3 problem(s)); nothing was deployed`)
}

func TestExistingModeIgnoresGKESettings(t *testing.T) {
	// A local stack does not need a project or region, and GKE-only settings are not checked.
	_, err := harness.Run(stacks.Program, "local", harness.Options{Set: map[string]any{"nodePool.minNodes": 0, "nodePool.maxNodes": 1}})
	require.NoError(t, err)
}
