package apis_test

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apis"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeService = "gcp:projects/service:Service"

// A resource given WaitFor() names every Service among its own dependencies. Run many times:
// depending on the component instead passes most runs and misses a child now and then.
func TestWaitForNamesEveryService(t *testing.T) {
	for i := 0; i < 25; i++ {
		var a *apis.APIs
		program := func(ctx *pulumi.Context) error {
			prov, err := gcp.NewProvider(ctx, "gcp", &gcp.ProviderArgs{Project: pulumi.String("my-project-1")})
			if err != nil {
				return err
			}
			a, err = apis.NewAPIs(ctx, "apis", &apis.Args{Project: "my-project-1",
				Services: []string{"container.googleapis.com", "compute.googleapis.com", "compute.googleapis.com", "iam.googleapis.com"}},
				pulumi.Provider(prov))
			if err != nil {
				return err
			}
			_, err = compute.NewNetwork(ctx, "vpc", &compute.NetworkArgs{}, pulumi.Provider(prov), a.WaitFor())
			return err
		}
		g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com"}, a.Services, "sorted, once each")
		vpc := g.Find("gcp:compute/network:Network", "vpc")
		require.NotNil(t, vpc)
		services := g.OfType(typeService)
		require.Len(t, services, 3)
		for _, s := range services {
			assert.True(t, slices.Contains(vpc.Dependencies, s.URN), "run %d: the network names %s", i, s.Name)
			assert.Equal(t, false, s.Get("disableOnDestroy"), "other workloads of the project may use it")
			assert.Equal(t, "my-project-1", s.Get("project"))
		}
	}
}

func TestBadArgsAreRefusedBeforeAnyResource(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		_, err := apis.NewAPIs(ctx, "apis", &apis.Args{Services: []string{"container"}})
		return err
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Project: missing")
	assert.Contains(t, err.Error(), `Services[0]: "container"`)
	if g != nil {
		assert.Empty(t, g.All())
	}
}
