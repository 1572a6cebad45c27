package policy_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
	"github.com/wso2-k8s/apim-gke/tests/policy"
)

func TestStacksPassEveryRule(t *testing.T) {
	for stack, env := range map[string]policy.Env{"dev": {}, "prod": {Production: true}, "local": {}} {
		t.Run(stack, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, stack, harness.Options{})
			require.NoError(t, err)
			assert.Empty(t, policy.Check(g, env))
		})
	}
	// dev and local must also pass the production rules except those about what production
	// alone needs; prod is held to all of them above.
}

// A compliant workload that each fixture breaks in one way.
type fixture struct {
	image          string
	noProbes       bool
	sameProbes     bool
	noDiskLimit    bool
	noLimits       bool
	maxUnavailable int
	secretEnv      bool
	plainSecret    bool
	configPassword bool
	hpaMax         int
	noProvider     bool
	noLabels       bool
	unprotectedPVC bool
	unprotectedNS  bool
	docRange       bool
}

func labels(f fixture) pulumi.StringMap {
	if f.noLabels {
		return pulumi.StringMap{"app": pulumi.String("bad")}
	}
	return pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String("bad"), "app.kubernetes.io/component": pulumi.String("web"),
		"app.kubernetes.io/part-of": pulumi.String("wso2-apim"), "app.kubernetes.io/managed-by": pulumi.String("pulumi"),
	}
}

func (f fixture) program(ctx *pulumi.Context) error {
	prov, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
	if err != nil {
		return err
	}
	opts := []pulumi.ResourceOption{pulumi.Provider(prov)}
	if f.noProvider {
		opts = nil
	}
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String("ns"), Labels: labels(f)}
	}
	c := corev1.ContainerArgs{
		Name:  pulumi.String("web"),
		Image: pulumi.String(f.image),
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi"), "ephemeral-storage": pulumi.String("1Gi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi"), "ephemeral-storage": pulumi.String("1Gi")},
		},
		ReadinessProbe: &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/ready"), Port: pulumi.Int(80)}},
		LivenessProbe:  &corev1.ProbeArgs{TcpSocket: &corev1.TCPSocketActionArgs{Port: pulumi.Int(80)}, PeriodSeconds: pulumi.Int(20)},
	}
	if f.sameProbes {
		c.ReadinessProbe = &corev1.ProbeArgs{TcpSocket: &corev1.TCPSocketActionArgs{Port: pulumi.Int(80)}, PeriodSeconds: pulumi.Int(5)}
	}
	if f.noDiskLimit {
		c.Resources = &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi"), "ephemeral-storage": pulumi.String("1Gi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi")},
		}
	}
	if f.noProbes {
		c.ReadinessProbe, c.LivenessProbe = nil, nil
	}
	if f.noLimits {
		c.Resources = nil
	}
	if f.secretEnv {
		c.Env = corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("DB_PASSWORD"), Value: pulumi.String("hunter2")}}
	}
	if _, err := appsv1.NewDeployment(ctx, "web", &appsv1.DeploymentArgs{
		Metadata: meta("web"),
		Spec: &appsv1.DeploymentSpecArgs{
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels(f)},
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(f.maxUnavailable)}},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels(f)},
				Spec:     &corev1.PodSpecArgs{Containers: corev1.ContainerArray{c}},
			},
		},
	}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewService(ctx, "web", &corev1.ServiceArgs{Metadata: meta("web"),
		Spec: &corev1.ServiceSpecArgs{Selector: labels(f)}}, opts...); err != nil {
		return err
	}
	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, "web", &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: meta("web"),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{Kind: pulumi.String("Deployment"), Name: pulumi.String("web")},
			MinReplicas:    pulumi.Int(2), MaxReplicas: pulumi.Int(f.hpaMax),
			Metrics: autoscalingv2.MetricSpecArray{autoscalingv2.MetricSpecArgs{Type: pulumi.String("Resource"),
				Resource: &autoscalingv2.ResourceMetricSourceArgs{Name: pulumi.String("cpu"),
					Target: &autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(70)}}}},
		},
	}, opts...); err != nil {
		return err
	}
	if f.plainSecret {
		// The typed SDK always marks Secret data secret; an untyped path (a YAML manifest,
		// a transform) may not, and that is what the rule is for.
		var raw pulumi.CustomResourceState
		if err := ctx.RegisterResource("kubernetes:core/v1:Secret", "creds", pulumi.Map{
			"metadata":   pulumi.Map{"name": pulumi.String("creds"), "labels": labels(f)},
			"stringData": pulumi.Map{"password": pulumi.String("s3cret")},
		}, &raw, opts...); err != nil {
			return err
		}
	} else if _, err := corev1.NewSecret(ctx, "creds", &corev1.SecretArgs{Metadata: meta("creds"),
		StringData: pulumi.StringMap{"password": pulumi.String("s3cret")}}, opts...); err != nil {
		return err
	}
	conf := "[database]\npassword = \"$env{DB_PASSWORD}\"\n"
	if f.configPassword {
		conf = "[database]\npassword = \"hunter2\"\n"
	}
	if _, err := corev1.NewConfigMap(ctx, "conf", &corev1.ConfigMapArgs{Metadata: meta("conf"),
		Data: pulumi.StringMap{"deployment.toml": pulumi.String(conf)}}, opts...); err != nil {
		return err
	}
	if _, err = corev1.NewPersistentVolumeClaim(ctx, "data", &corev1.PersistentVolumeClaimArgs{Metadata: meta("data"),
		Spec: &corev1.PersistentVolumeClaimSpecArgs{AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")}}},
		append(opts, pulumi.Protect(!f.unprotectedPVC))...); err != nil {
		return err
	}
	if _, err = corev1.NewNamespace(ctx, "ns", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("ns"), Labels: labels(f)}},
		append(opts, pulumi.Protect(!f.unprotectedNS))...); err != nil {
		return err
	}
	gcpProv, err := gcp.NewProvider(ctx, "gcp", &gcp.ProviderArgs{Project: pulumi.String("p")})
	if err != nil {
		return err
	}
	cidr := "198.18.0.0/15"
	if f.docRange {
		cidr = "203.0.113.0/24"
	}
	_, err = container.NewCluster(ctx, "gke", &container.ClusterArgs{
		MasterAuthorizedNetworksConfig: &container.ClusterMasterAuthorizedNetworksConfigArgs{
			CidrBlocks: container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray{
				container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{CidrBlock: pulumi.String(cidr), DisplayName: pulumi.String("ci")},
			},
		},
		ResourceLabels: pulumi.StringMap{"env": pulumi.String("test")},
	}, pulumi.Provider(gcpProv), pulumi.Protect(true))
	return err
}

func violations(t *testing.T, f fixture) []string {
	t.Helper()
	g, err := harness.RunWithConfig(f.program, "fixture", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	var out []string
	for _, v := range policy.Check(g, policy.Env{Production: true}) {
		out = append(out, v.String())
	}
	return out
}

func good() fixture { return fixture{image: "nginx:1.27", hpaMax: 4} }

func TestCompliantFixturePasses(t *testing.T) {
	assert.Empty(t, violations(t, good()), "the baseline fixture must be clean, or the cases below prove nothing")
}

func TestEachRuleFailsOnItsViolation(t *testing.T) {
	cases := []struct {
		rule   string
		break_ func(*fixture)
		want   string
	}{
		{"resources-and-probes", func(f *fixture) { f.noProbes = true },
			"resources-and-probes: kubernetes:apps/v1:Deployment web: container web has no readinessProbe"},
		{"resources-and-probes", func(f *fixture) { f.noLimits = true },
			"resources-and-probes: kubernetes:apps/v1:Deployment web: container web has no limits.memory"},
		{"resources-and-probes", func(f *fixture) { f.noDiskLimit = true },
			"resources-and-probes: kubernetes:apps/v1:Deployment web: container web has no limits.ephemeral-storage"},
		{"resources-and-probes", func(f *fixture) { f.sameProbes = true },
			"resources-and-probes: kubernetes:apps/v1:Deployment web: container web checks the same thing for readiness and liveness (tcpSocket map[port:80])"},
		{"zero-downtime-rollout", func(f *fixture) { f.maxUnavailable = 1 },
			`zero-downtime-rollout: kubernetes:apps/v1:Deployment web: serves traffic but maxUnavailable is "1"; want 0`},
		{"pinned-images", func(f *fixture) { f.image = "nginx:latest" },
			`pinned-images: kubernetes:apps/v1:Deployment web: container web uses image "nginx:latest"; pin a version`},
		{"pinned-images", func(f *fixture) { f.image = "registry.example:5000/nginx" },
			`pinned-images: kubernetes:apps/v1:Deployment web: container web uses image "registry.example:5000/nginx"; pin a version`},
		{"hpa-bounds", func(f *fixture) { f.hpaMax = 2 },
			"hpa-bounds: kubernetes:autoscaling/v2:HorizontalPodAutoscaler web: maxReplicas 2 is not greater than minReplicas 2"},
		{"no-plaintext-secrets", func(f *fixture) { f.secretEnv = true },
			"no-plaintext-secrets: kubernetes:apps/v1:Deployment web: container web env DB_PASSWORD is a literal; read it from a Secret"},
		{"no-plaintext-secrets", func(f *fixture) { f.configPassword = true },
			"no-plaintext-secrets: kubernetes:core/v1:ConfigMap conf: data deployment.toml assigns a literal to password"},
		{"no-plaintext-secrets", func(f *fixture) { f.plainSecret = true },
			"no-plaintext-secrets: kubernetes:core/v1:Secret creds: stringData.password is not a Pulumi secret, so it is stored in plain text in state"},
		{"protected-state", func(f *fixture) { f.unprotectedNS = true },
			"protected-state: kubernetes:core/v1:Namespace ns: deleting it deletes the claims of kubernetes:core/v1:PersistentVolumeClaim data, but it is not protected"},
		{"protected-state", func(f *fixture) { f.unprotectedPVC = true },
			"protected-state: kubernetes:core/v1:PersistentVolumeClaim data: holds data but is not protected"},
		{"no-placeholder-networks", func(f *fixture) { f.docRange = true },
			"no-placeholder-networks: gcp:container/cluster:Cluster gke: master authorized network 203.0.113.0/24 is a documentation range: nothing real can reach the control plane"},
		{"explicit-provider", func(f *fixture) { f.noProvider = true },
			"explicit-provider: kubernetes:apps/v1:Deployment web: uses the default provider (ambient credentials and context)"},
		{"standard-labels", func(f *fixture) { f.noLabels = true },
			"standard-labels: kubernetes:apps/v1:Deployment web: no label app.kubernetes.io/part-of"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			f := good()
			tc.break_(&f)
			got := violations(t, f)
			assert.Contains(t, got, tc.want)
			for _, v := range got {
				assert.True(t, strings.HasPrefix(v, tc.rule+": "), "breaking %s should trip only that rule, got %s", tc.rule, v)
			}
		})
		covered[tc.rule] = true
	}
	for _, r := range policy.Rules {
		assert.True(t, covered[r.Name], "rule %s has no violating fixture", r.Name)
	}
}

func TestImageIsPinned(t *testing.T) {
	for img, want := range map[string]bool{
		"wso2/wso2am:4.7.0": true, "mysql:8.4": true, "nginx": false, "nginx:latest": false,
		"registry.example:5000/a/b": false, "registry.example:5000/a/b:1.0": true,
		"busybox@sha256:" + strings.Repeat("a", 64): true,
	} {
		assert.Equal(t, want, policy.ImageIsPinned(img), img)
	}
}
