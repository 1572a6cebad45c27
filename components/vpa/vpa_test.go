package vpa_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/vpa"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func run(args *vpa.Args) (*harness.Graph, error) {
	g, _, err := harness.TryConstruct(harness.Kubernetes, vpa.NewVPA, "v", args)
	return g, err
}

// One VerticalPodAutoscaler per target, in recommendation mode, children of the component
// with the explicit provider.
func TestVPAsRecommendOnly(t *testing.T) {
	g, err := run(&vpa.Args{Namespace: pulumi.String("ns"), Targets: []vpa.Target{{Kind: "StatefulSet", Name: "db"}, {Kind: "Deployment", Name: "web"}}})
	require.NoError(t, err)
	comp := g.Find("wso2apim:vpa:VPA", "v")
	require.NotNil(t, comp)
	objs := g.OfType("kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler")
	require.Len(t, objs, 2)
	for _, o := range objs {
		assert.Equal(t, comp.URN, o.Parent)
		assert.NotEmpty(t, o.Provider)
		assert.Equal(t, "Off", o.Get("spec.updatePolicy.updateMode"))
		assert.Equal(t, "ns", o.Get("metadata.namespace"))
		assert.Equal(t, o.Get("metadata.name"), o.Get("spec.targetRef.name"))
		assert.Equal(t, "apps/v1", o.Get("spec.targetRef.apiVersion"))
	}
	assert.Equal(t, "StatefulSet", g.Find("kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler", "v-db").Get("spec.targetRef.kind"))
}

func TestVPARefusesOtherKinds(t *testing.T) {
	g, err := run(&vpa.Args{Namespace: pulumi.String("ns"), Targets: []vpa.Target{{Kind: "DaemonSet", Name: "x"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `target "x": Kind "DaemonSet" is not valid; want Deployment or StatefulSet`)
	assert.Empty(t, g.OfType("kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler"))
}
