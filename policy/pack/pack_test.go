package pack_test

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/policy/pack"
	"github.com/wso2-k8s/apim-gke/policy/rules"
)

type manager struct{ got []string }

func (m *manager) ReportViolation(message, _ string) { m.got = append(m.got, message) }

// run validates resources with every policy of the pack and returns "<policy>: <message>".
func run(t *testing.T, env rules.Env, resources ...policyx.AnalyzerResource) map[string][]string {
	t.Helper()
	p, err := pack.NewFor(env)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, pol := range p.Policies() {
		m := &manager{}
		require.NoError(t, pol.(policyx.StackValidationPolicy).Validate(context.Background(), policyx.StackValidationArgs{Manager: m, Resources: resources}))
		if len(m.got) > 0 {
			out[pol.Name()] = m.got
		}
	}
	return out
}

var k8s = policyx.AnalyzerProviderResource{Type: "pulumi:providers:kubernetes", Name: "apim-k8s", URN: "urn:pulumi:s::p::pulumi:providers:kubernetes::apim-k8s"}

func labels() property.Value {
	return property.New(map[string]property.Value{
		"app.kubernetes.io/part-of": property.New("wso2-apim"), "app.kubernetes.io/managed-by": property.New("pulumi"),
		"app.kubernetes.io/name": property.New("web"), "app.kubernetes.io/component": property.New("web"),
	})
}

// deployment is a compliant Deployment whose one container's image is image.
func deployment(image property.Value) policyx.AnalyzerResource {
	q := property.New(map[string]property.Value{"cpu": property.New("1"), "memory": property.New("1Gi"), "ephemeral-storage": property.New("1Gi")})
	c := property.New(map[string]property.Value{
		"name": property.New("web"), "image": image,
		"resources":      property.New(map[string]property.Value{"requests": q, "limits": q}),
		"readinessProbe": property.New(map[string]property.Value{"httpGet": property.New(map[string]property.Value{"port": property.New(80.0)})}),
		"livenessProbe":  property.New(map[string]property.Value{"tcpSocket": property.New(map[string]property.Value{"port": property.New(80.0)})}),
		"securityContext": property.New(map[string]property.Value{"allowPrivilegeEscalation": property.New(false), "runAsNonRoot": property.New(true),
			"capabilities":   property.New(map[string]property.Value{"drop": property.New([]property.Value{property.New("ALL")})}),
			"seccompProfile": property.New(map[string]property.Value{"type": property.New("RuntimeDefault")})}),
	})
	props := property.NewMap(map[string]property.Value{
		"metadata": property.New(map[string]property.Value{"name": property.New("web"), "namespace": property.New("ns"), "labels": labels()}),
		"spec": property.New(map[string]property.Value{
			"strategy": property.New(map[string]property.Value{"type": property.New("RollingUpdate"),
				"rollingUpdate": property.New(map[string]property.Value{"maxUnavailable": property.New(0.0)})}),
			"template": property.New(map[string]property.Value{
				"metadata": property.New(map[string]property.Value{"labels": labels()}),
				"spec":     property.New(map[string]property.Value{"containers": property.New([]property.Value{c})}),
			}),
		}),
	})
	return policyx.AnalyzerResource{Type: "kubernetes:apps/v1:Deployment", Name: "web", URN: "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::web",
		Properties: props, Provider: k8s}
}

func TestKnownValuesAreJudged(t *testing.T) {
	assert.Empty(t, run(t, rules.Env{Production: true}, deployment(property.New("nginx:1.27"))))
	assert.Equal(t, map[string][]string{"pinned-images": {`kubernetes:apps/v1:Deployment web: container web uses image "nginx:latest"; pin a version`}},
		run(t, rules.Env{Production: true}, deployment(property.New("nginx:latest"))))
}

// An image that is an output of a resource still to be created is neither pinned nor not.
func TestUnknownValuesCannotBeJudged(t *testing.T) {
	got := run(t, rules.Env{Production: true}, deployment(property.New(property.Computed)))
	assert.Equal(t, map[string][]string{pack.CannotJudge: {
		"pinned-images: cannot judge: kubernetes:apps/v1:Deployment web: container web: image is not known until the change is applied"}}, got)
}

func secret(data property.Value) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{Type: "kubernetes:core/v1:Secret", Name: "creds", URN: "urn:pulumi:s::p::kubernetes:core/v1:Secret::creds", Provider: k8s,
		Properties: property.NewMap(map[string]property.Value{
			"metadata": property.New(map[string]property.Value{"name": property.New("creds"), "labels": labels()}),
			"data":     data,
		})}
}

func TestSecretsAreJudgedBySecretness(t *testing.T) {
	value := property.New(map[string]property.Value{"tls.key": property.New("a2V5")})
	assert.Empty(t, run(t, rules.Env{}, secret(value.WithSecret(true))), "a secret map: every key is secret")
	assert.Equal(t, map[string][]string{"no-plaintext-secrets": {
		"kubernetes:core/v1:Secret creds: data.tls.key is not a Pulumi secret, so it is stored in plain text in state"}},
		run(t, rules.Env{}, secret(value)))
	assert.Empty(t, run(t, rules.Env{}, secret(property.New(property.Computed).WithSecret(true))), "an unknown secret is still a secret")
	assert.Equal(t, map[string][]string{pack.CannotJudge: {
		"no-plaintext-secrets: cannot judge: kubernetes:core/v1:Secret creds: data is not known until the change is applied"}},
		run(t, rules.Env{}, secret(property.New(property.Computed))))
}

// The engine's own provider (named default or default_<version>) is the ambient one.
func TestDefaultProviderIsRecognised(t *testing.T) {
	d := deployment(property.New("nginx:1.27"))
	d.Provider = policyx.AnalyzerProviderResource{Type: "pulumi:providers:kubernetes", Name: "default_4_32_0",
		URN: "urn:pulumi:s::p::pulumi:providers:kubernetes::default_4_32_0"}
	assert.Equal(t, map[string][]string{"explicit-provider": {
		"kubernetes:apps/v1:Deployment web: uses the default provider (ambient credentials and context)"}}, run(t, rules.Env{}, d))
}

func TestProductionStacks(t *testing.T) {
	for stack, want := range map[string]bool{"prod": true, "prod-eu": true, "dev": false, "local": false, "production": false, "preprod": false} {
		assert.Equal(t, want, pack.Production(stack), stack)
	}
}

func TestNewReadsTheStack(t *testing.T) {
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{Project: "p", Stack: "prod"})
	require.NoError(t, err)
	p, err := pack.New(ctx)
	require.NoError(t, err)
	m := &manager{}
	for _, pol := range p.Policies() {
		if pol.Name() == "pinned-images" {
			require.NoError(t, pol.(policyx.StackValidationPolicy).Validate(context.Background(),
				policyx.StackValidationArgs{Manager: m, Resources: []policyx.AnalyzerResource{deployment(property.New("nginx"))}}))
		}
	}
	assert.Len(t, m.got, 1, "prod is held to pinned images")
}
