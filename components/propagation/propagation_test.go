package propagation_test

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/propagation"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The hook sleeps exactly the wait it was given, and nothing else.
func TestSleepWaitsTheGivenDuration(t *testing.T) {
	var slept []time.Duration
	hook := propagation.Sleep(nil, 90*time.Second, func(d time.Duration) { slept = append(slept, d) })
	require.NoError(t, hook(&pulumi.ResourceHookArgs{Name: "b", Type: harness.TypeGCPIAMMember}))
	assert.Equal(t, []time.Duration{90 * time.Second}, slept)

	start := time.Now()
	require.NoError(t, propagation.Sleep(nil, 30*time.Millisecond, time.Sleep)(&pulumi.ResourceHookArgs{}))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "the real sleep is used")
}

// A resource given After() carries the hook as an after-create hook; a zero wait adds none.
func TestAfterBindsTheHookAfterCreate(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want []string
	}{{2 * time.Minute, []string{"b-propagation"}}, {0, nil}} {
		g := harness.MustRunComponent(t, harness.Mocks{}, func(ctx *pulumi.Context, _ pulumi.ResourceOption) error {
			w, err := propagation.New(ctx, "b-propagation", tc.wait)
			if err != nil {
				return err
			}
			assert.Equal(t, tc.wait, w.Duration())
			_, err = projects.NewIAMMember(ctx, "b", &projects.IAMMemberArgs{Project: pulumi.String("p"),
				Role: pulumi.String("roles/viewer"), Member: pulumi.String("user:a@example.com")}, w.After())
			return err
		})
		b := g.Find(harness.TypeGCPIAMMember, "b")
		require.NotNil(t, b)
		assert.Equal(t, tc.want, b.AfterCreate, "wait %s", tc.wait)
	}
}
