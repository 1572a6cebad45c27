package publisher_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/publisher"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func baseArgs() *publisher.Args {
	return &publisher.Args{
		Namespace: pulumi.String("apps"), ControlPlaneURL: "https://apim-cp:9443", AdminUsername: "admin",
		AdminPassword: kube.SecretRef{Name: "cp", Key: "admin-password"}, GatewayVHost: "gw.example.com",
		Endpoint: "http://hello:9090/kuberneteshello",
	}
}

// The Job's pod may call the control plane's port and nothing else; nobody may call it.
func TestPublisherNetworkPolicy(t *testing.T) {
	a := baseArgs()
	a.ControlPlane = []kube.Peer{{Pods: map[string]string{"app": "cp"}}}
	g, _ := harness.Construct(t, harness.Kubernetes, publisher.NewPublisher, "pub", a)
	job := g.Find(harness.TypeJob, "pub")
	require.NotNil(t, job)
	np := g.Find(harness.TypeNetworkPolicy, "pub")
	require.NotNil(t, np)
	assert.Equal(t, job.Get("spec.template.metadata.labels[app.kubernetes.io/name]"), np.Get("spec.podSelector.matchLabels[app.kubernetes.io/name]"))
	assert.Equal(t, "api-publisher", np.Get("spec.podSelector.matchLabels[app.kubernetes.io/component]"))
	assert.Equal(t, []any{}, np.Get("spec.ingress"), "nothing calls the Job")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "cp"}}}}, np.Get("spec.egress.0.to"))
	assert.Equal(t, []any{map[string]any{"protocol": "TCP", "port": 9443.0}}, np.Get("spec.egress.0.ports"))
	assert.Len(t, np.Get("spec.egress"), 1)
	c := "spec.template.spec.containers.0"
	assert.Equal(t, map[string]any{"cpu": "200m", "memory": "128Mi", "ephemeral-storage": "64Mi"}, job.Get(c+".resources.limits"))
}

func TestPublisherPolicyFollowsTheURLsPort(t *testing.T) {
	for url, port := range map[string]float64{"https://cp.internal": 443, "http://cp.internal": 80, "http://cp:9763": 9763} {
		a := baseArgs()
		a.ControlPlaneURL = url
		g, _ := harness.Construct(t, harness.Kubernetes, publisher.NewPublisher, "pub", a)
		np := g.Find(harness.TypeNetworkPolicy, "pub")
		assert.Equal(t, port, np.Get("spec.egress.0.ports.0.port"), url)
		assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}}, np.Get("spec.egress.0.to"), "no peers given: the namespace's pods")
	}
}
