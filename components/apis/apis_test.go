package apis_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apis"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// A resource given WaitFor() names every Service among its own dependencies. Run many times:
// depending on the component instead passes most runs and misses a child now and then.
func TestWaitForNamesEveryService(t *testing.T) {
	for i := 0; i < 25; i++ {
		var a *apis.APIs
		g := harness.MustRunComponent(t, harness.GCP("my-project-1"), func(ctx *pulumi.Context, prov pulumi.ResourceOption) (err error) {
			a, err = apis.NewAPIs(ctx, "apis", &apis.Args{Project: "my-project-1",
				Services: []string{"container.googleapis.com", "compute.googleapis.com", "compute.googleapis.com", "iam.googleapis.com"}},
				prov)
			if err != nil {
				return err
			}
			_, err = compute.NewNetwork(ctx, "vpc", &compute.NetworkArgs{}, prov, a.WaitFor())
			return err
		})
		assert.Equal(t, []string{"compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com"}, a.Services, "sorted, once each")
		vpc := g.Find(harness.TypeGCPNetwork, "vpc")
		require.NotNil(t, vpc)
		services := g.OfType(harness.TypeGCPService)
		require.Len(t, services, 3)
		for _, s := range services {
			assert.True(t, slices.Contains(vpc.Dependencies, s.URN), "run %d: the network names %s", i, s.Name)
			assert.Equal(t, false, s.Get("disableOnDestroy"), "other workloads of the project may use it")
			assert.Equal(t, "my-project-1", s.Get("project"))
		}
	}
}

func TestBadArgsAreRefusedBeforeAnyResource(t *testing.T) {
	g, _, err := harness.TryConstruct(harness.Mocks{}, apis.NewAPIs, "apis", &apis.Args{Services: []string{"container"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Project: missing")
	assert.Contains(t, err.Error(), `Services[0]: "container"`)
	if g != nil {
		assert.Empty(t, g.All())
	}
}

// Each API enabled here waits, once enabled, for the enablement to propagate; without a wait
// nothing does.
func TestEnabledAPIsWaitForPropagation(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want []string
	}{{time.Minute, []string{"apis-propagation"}}, {0, nil}} {
		g, _ := harness.Construct(t, harness.Mocks{}, apis.NewAPIs, "apis", &apis.Args{Project: "my-project-1",
			Services: []string{"container.googleapis.com", "compute.googleapis.com"}, PropagationWait: tc.wait})
		services := g.OfType(harness.TypeGCPService)
		require.Len(t, services, 2)
		for _, s := range services {
			assert.Equal(t, tc.want, s.AfterCreate, "%s with a wait of %s", s.Name, tc.wait)
		}
	}
}
