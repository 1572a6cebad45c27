package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/platform"
	"github.com/wso2-k8s/apim-gke/components/validate"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// onceEach is what resolving a Platform's args once means: the Platform's own defaults and
// rules, and those of the two API Manager components whose args it derives, each run once.
var onceEach = map[string]int{
	"platform.Args.WithDefaults":         1,
	"platform.Args.Validate":             1,
	"apim.ControlPlaneArgs.WithDefaults": 1,
	"apim.ControlPlaneArgs.Validate":     1,
	"apim.GatewayArgs.WithDefaults":      1,
	"apim.GatewayArgs.Validate":          1,
}

// Each stack's program resolves its config once: stacks.LoadConfig resolves it to report every
// problem before anything is registered, and NewPlatform and the components it creates trust
// the result instead of defaulting and validating it again.
func TestEachStackResolvesItsArgsOnce(t *testing.T) {
	for _, stack := range stackNames {
		stop := validate.CountRuns()
		_, err := harness.Run(stacks.Program, stack, harness.Options{})
		runs := stop()
		require.NoError(t, err, stack)
		assert.Equal(t, onceEach, runs, stack)
	}
}

// A platform engineer's own program calls NewPlatform with plain args: resolved once, too.
func TestNewPlatformResolvesItsArgsOnce(t *testing.T) {
	stop := validate.CountRuns()
	_, err := harness.RunWithConfig(func(ctx *pulumi.Context) error {
		_, err := platform.NewPlatform(ctx, "mine", &platform.Args{
			Cluster: platform.ClusterArgs{ClusterArgs: gke.ClusterArgs{Project: "my-project-1", Region: "europe-west1"}},
		})
		return err
	}, "mine", "test", map[string]any{}, harness.Options{})
	runs := stop()
	require.NoError(t, err)
	assert.Equal(t, onceEach, runs)
}

// Resolved args are trusted only in the Context they were resolved in, and args that had a
// problem are never trusted: resolving them again runs the rules again.
func TestResolvedArgsAreTrustedOnlyWhereChecked(t *testing.T) {
	c := platform.Context{Name: "apim", Stack: "prod", GCPProject: "p-123456", GCPRegion: "europe-west1"}
	a, problems := platform.Resolve(c, platform.Args{})
	require.Empty(t, problems)

	stop := validate.CountRuns()
	_, problems = platform.Resolve(c, a)
	assert.Empty(t, problems)
	assert.Empty(t, stop(), "resolving resolved args again in the same Context runs nothing")

	other := c
	other.Name = "other"
	stop = validate.CountRuns()
	_, _ = platform.Resolve(other, a)
	assert.Equal(t, 1, stop()["platform.Args.Validate"], "another Context (another name, namespace, cluster) resolves again")

	bad := platform.Args{}
	bad.Gateway.MinReplicas, bad.Gateway.MaxReplicas = 3, 2
	bad, problems = platform.Resolve(c, bad)
	require.Contains(t, problems, "gateway.maxReplicas: 2 is not greater than gateway.minReplicas (3); the autoscaler needs room to scale")
	stop = validate.CountRuns()
	_, problems = platform.Resolve(c, bad)
	runs := stop()
	assert.Equal(t, 1, runs["apim.GatewayArgs.Validate"], "args with a problem are checked again, never trusted")
	assert.Contains(t, problems, "gateway.maxReplicas: 2 is not greater than gateway.minReplicas (3); the autoscaler needs room to scale")
}

// A leaf component used alone resolves its own args, once, with the same code: the gateway
// refuses what the Platform's rules refuse.
func TestGatewayAloneResolvesItsArgs(t *testing.T) {
	stop := validate.CountRuns()
	err := harness.Refused(t, apim.NewGateway, "gw", &apim.GatewayArgs{MinReplicas: 3, MaxReplicas: 2})
	runs := stop()
	assert.ErrorContains(t, err, "maxReplicas: 2 is not greater than minReplicas (3)")
	assert.Equal(t, map[string]int{"apim.GatewayArgs.WithDefaults": 1, "apim.GatewayArgs.Validate": 1}, runs)
}
