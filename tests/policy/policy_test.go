package policy_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/filestore"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/sql"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
	"github.com/wso2-k8s/apim-gke/tests/policy"
)

// Every stack is held to every rule, the production ones included. Dev and local break only
// protected-state, on purpose (protect: false and deletionProtection false, so that they can be
// torn down at will), and exactly where listed: any other finding, or one of these gone or
// changed, fails.
func TestStacksPassEveryRule(t *testing.T) {
	exceptions := map[string][]string{
		"prod": nil,
		"dev": {
			"protected-state: gcp:compute/disk:Disk apim-nfs-data: holds data but is not protected",
			"protected-state: gcp:container/cluster:Cluster apim-gke: holds data but is not protected",
			"protected-state: gcp:sql/database:Database apim-sql-apim-db: holds data but is not protected",
			"protected-state: gcp:sql/database:Database apim-sql-shared-db: holds data but is not protected",
			"protected-state: gcp:sql/databaseInstance:DatabaseInstance apim-sql: holds data but Cloud SQL's deletion protection (settings.deletionProtectionEnabled and deletionProtection) is off",
			"protected-state: gcp:sql/databaseInstance:DatabaseInstance apim-sql: holds data but is not protected",
			"protected-state: kubernetes:apps/v1:StatefulSet apim-analytics: holds data but is not protected",
			"protected-state: kubernetes:core/v1:Namespace apim-ns: deleting it deletes the claims of kubernetes:apps/v1:StatefulSet apim-analytics, but it is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolume apim-nfs: holds data but is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolumeClaim apim-nfs: holds data but is not protected",
		},
		"local": {
			"protected-state: kubernetes:apps/v1:StatefulSet apim-analytics: holds data but is not protected",
			"protected-state: kubernetes:apps/v1:StatefulSet apim-mysql: holds data but is not protected",
			"protected-state: kubernetes:core/v1:Namespace apim-nfs-ns: deleting it deletes the claims of kubernetes:core/v1:PersistentVolumeClaim apim-nfs-server, but it is not protected",
			"protected-state: kubernetes:core/v1:Namespace apim-ns: deleting it deletes the claims of kubernetes:apps/v1:StatefulSet apim-analytics, but it is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolume apim-nfs: holds data but is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolumeClaim apim-mysql-backup: holds data but is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolumeClaim apim-nfs-server: holds data but is not protected",
			"protected-state: kubernetes:core/v1:PersistentVolumeClaim apim-nfs: holds data but is not protected",
		},
	}
	for stack, want := range exceptions {
		t.Run(stack, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, stack, harness.Options{})
			require.NoError(t, err)
			var got []string
			for _, f := range policy.Check(g, policy.Env{Production: true}) {
				got = append(got, f.String())
			}
			assert.Equal(t, want, got)
			// Without the production rules nothing is left.
			assert.Empty(t, policy.Check(g, policy.Env{}))
		})
	}
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
	// privateNoMAN gives the cluster a private endpoint without authorized networks;
	// publicEmptyMAN enables them empty on a public endpoint.
	privateNoMAN   bool
	publicEmptyMAN bool
	// filestoreOnNodes puts Filestore's range inside the node range; filestoreOffStep sizes
	// a zonal share off its 256 GiB steps.
	filestoreOnNodes bool
	filestoreOffStep bool
	// rootInit adds an init container that may run as root with its capabilities.
	rootInit bool
	// shortPreStop stops serving before the load balancer's draining ends.
	shortPreStop bool
	// The backup CronJob and the Cloud SQL instance.
	cronNoLimits   bool
	cronImage      string
	cronSecretEnv  bool
	cronPrivileged bool
	sqlUnprotected bool
	sqlUnguarded   bool
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
		SecurityContext: &corev1.SecurityContextArgs{AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}}},
		Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(35)}}},
	}
	if f.shortPreStop {
		c.Lifecycle = &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
			Exec: &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"sleep", "15"})}}}
	}
	var inits corev1.ContainerArray
	if f.rootInit {
		setup := c
		setup.Name, setup.ReadinessProbe, setup.LivenessProbe = pulumi.String("setup"), nil, nil
		setup.SecurityContext = &corev1.SecurityContextArgs{RunAsNonRoot: pulumi.Bool(false), AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}}}
		inits = corev1.ContainerArray{setup}
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
				Spec: &corev1.PodSpecArgs{Containers: corev1.ContainerArray{c}, InitContainers: inits, TerminationGracePeriodSeconds: pulumi.Int(95),
					SecurityContext: &corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}}},
			},
		},
	}, opts...); err != nil {
		return err
	}
	svcMeta := meta("web")
	svcMeta.Annotations = pulumi.StringMap{"cloud.google.com/backend-config": pulumi.String(`{"ports":{"http":"web-lb"}}`)}
	if _, err := corev1.NewService(ctx, "web", &corev1.ServiceArgs{Metadata: svcMeta,
		Spec: &corev1.ServiceSpecArgs{Selector: labels(f)}}, opts...); err != nil {
		return err
	}
	if _, err := apiextensions.NewCustomResource(ctx, "web-lb", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("cloud.google.com/v1"), Kind: pulumi.String("BackendConfig"), Metadata: meta("web-lb"),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"connectionDraining": map[string]any{"drainingTimeoutSec": 30}}},
	}, opts...); err != nil {
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
	if err := f.backupAndDatabase(ctx, opts, meta); err != nil {
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
	ca := &container.ClusterArgs{
		MasterAuthorizedNetworksConfig: &container.ClusterMasterAuthorizedNetworksConfigArgs{
			CidrBlocks: container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray{
				container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{CidrBlock: pulumi.String(cidr), DisplayName: pulumi.String("ci")},
			},
		},
		ResourceLabels: pulumi.StringMap{"env": pulumi.String("test")},
	}
	if f.privateNoMAN {
		ca.PrivateClusterConfig = &container.ClusterPrivateClusterConfigArgs{EnablePrivateNodes: pulumi.Bool(true),
			EnablePrivateEndpoint: pulumi.Bool(true), MasterIpv4CidrBlock: pulumi.String("172.16.0.0/28")}
		ca.MasterAuthorizedNetworksConfig = nil
	}
	if f.publicEmptyMAN {
		ca.MasterAuthorizedNetworksConfig = &container.ClusterMasterAuthorizedNetworksConfigArgs{GcpPublicCidrsAccessEnabled: pulumi.Bool(false)}
	}
	if _, err = container.NewCluster(ctx, "gke", ca, pulumi.Provider(gcpProv), pulumi.Protect(true)); err != nil {
		return err
	}
	if _, err = compute.NewSubnetwork(ctx, "nodes", &compute.SubnetworkArgs{
		Network: pulumi.String("vpc"), IpCidrRange: pulumi.String("10.10.0.0/20"),
		SecondaryIpRanges: compute.SubnetworkSecondaryIpRangeArray{
			compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String("pods"), IpCidrRange: pulumi.String("10.16.0.0/14")},
		},
	}, pulumi.Provider(gcpProv)); err != nil {
		return err
	}
	reserved, capacity := "10.30.0.0/26", 1280
	if f.filestoreOnNodes {
		reserved = "10.10.0.0/26"
	}
	if f.filestoreOffStep {
		capacity = 1100
	}
	_, err = filestore.NewInstance(ctx, "files", &filestore.InstanceArgs{
		Tier: pulumi.String("ZONAL"), Location: pulumi.String("europe-west1-b"),
		FileShares: &filestore.InstanceFileSharesArgs{Name: pulumi.String("share"), CapacityGb: pulumi.Int(capacity)},
		Networks: filestore.InstanceNetworkArray{filestore.InstanceNetworkArgs{Network: pulumi.String("vpc"),
			Modes: pulumi.StringArray{pulumi.String("MODE_IPV4")}, ReservedIpRange: pulumi.String(reserved)}},
	}, pulumi.Provider(gcpProv), pulumi.Protect(true))
	return err
}

// backupAndDatabase adds a CronJob (not long-running: no probes) and a Cloud SQL instance.
func (f fixture) backupAndDatabase(ctx *pulumi.Context, opts []pulumi.ResourceOption, meta func(string) *metav1.ObjectMetaArgs) error {
	image := "mysql:8.4"
	if f.cronImage != "" {
		image = f.cronImage
	}
	c := corev1.ContainerArgs{Name: pulumi.String("backup"), Image: pulumi.String(image),
		SecurityContext: &corev1.SecurityContextArgs{AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}}},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi"), "ephemeral-storage": pulumi.String("64Mi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("512Mi"), "ephemeral-storage": pulumi.String("256Mi")},
		}}
	if f.cronNoLimits {
		c.Resources = nil
	}
	if f.cronPrivileged {
		c.SecurityContext = &corev1.SecurityContextArgs{AllowPrivilegeEscalation: pulumi.Bool(true),
			Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}}}
	}
	if f.cronSecretEnv {
		c.Env = corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("MYSQL_PASSWORD"), Value: pulumi.String("hunter2")}}
	}
	if _, err := batchv1.NewCronJob(ctx, "backup", &batchv1.CronJobArgs{
		Metadata: meta("backup"),
		Spec: &batchv1.CronJobSpecArgs{Schedule: pulumi.String("0 */6 * * *"), JobTemplate: batchv1.JobTemplateSpecArgs{
			Spec: batchv1.JobSpecArgs{Template: corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels(f)},
				Spec: &corev1.PodSpecArgs{Containers: corev1.ContainerArray{c}, RestartPolicy: pulumi.String("Never"),
					SecurityContext: &corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true),
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}}},
			}},
		}},
	}, opts...); err != nil {
		return err
	}
	gcpProv, err := gcp.NewProvider(ctx, "gcp-sql", &gcp.ProviderArgs{Project: pulumi.String("p")})
	if err != nil {
		return err
	}
	_, err = sql.NewDatabaseInstance(ctx, "db", &sql.DatabaseInstanceArgs{
		DatabaseVersion:    pulumi.String("MYSQL_8_4"),
		DeletionProtection: pulumi.Bool(!f.sqlUnguarded),
		Settings: &sql.DatabaseInstanceSettingsArgs{Tier: pulumi.String("db-custom-2-7680"),
			DeletionProtectionEnabled: pulumi.Bool(!f.sqlUnguarded)},
	}, pulumi.Provider(gcpProv), pulumi.Protect(!f.sqlUnprotected))
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

// violationCases break the compliant fixture one way each: the rule that must report it, and
// what it must say. Both runners are held to them (policy_test.go, pack_test.go).
var violationCases = []struct {
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
	{"protected-state", func(f *fixture) { f.sqlUnprotected = true },
		"protected-state: gcp:sql/databaseInstance:DatabaseInstance db: holds data but is not protected"},
	{"protected-state", func(f *fixture) { f.sqlUnguarded = true },
		"protected-state: gcp:sql/databaseInstance:DatabaseInstance db: holds data but Cloud SQL's deletion protection (settings.deletionProtectionEnabled and deletionProtection) is off"},
	{"resources-and-probes", func(f *fixture) { f.cronNoLimits = true },
		"resources-and-probes: kubernetes:batch/v1:CronJob backup: container backup has no limits.memory"},
	{"pinned-images", func(f *fixture) { f.cronImage = "mysql" },
		`pinned-images: kubernetes:batch/v1:CronJob backup: container backup uses image "mysql"; pin a version`},
	{"restricted-pods", func(f *fixture) { f.cronPrivileged = true },
		"restricted-pods: kubernetes:batch/v1:CronJob backup: container backup allows privilege escalation"},
	{"no-plaintext-secrets", func(f *fixture) { f.cronSecretEnv = true },
		"no-plaintext-secrets: kubernetes:batch/v1:CronJob backup: container backup env MYSQL_PASSWORD is a literal; read it from a Secret"},
	{"no-placeholder-networks", func(f *fixture) { f.docRange = true },
		"no-placeholder-networks: gcp:container/cluster:Cluster gke: master authorized network 203.0.113.0/24 is a documentation range: nothing real can reach the control plane"},
	{"private-endpoint-authorized-networks", func(f *fixture) { f.privateNoMAN = true },
		"private-endpoint-authorized-networks: gcp:container/cluster:Cluster gke: has a private endpoint but no masterAuthorizedNetworksConfig, so the provider sends enabled = false and GKE refuses the cluster; send the block (empty is fine)"},
	{"private-endpoint-authorized-networks", func(f *fixture) { f.publicEmptyMAN = true },
		"private-endpoint-authorized-networks: gcp:container/cluster:Cluster gke: enables master authorized networks with no network on a public endpoint: only the nodes could reach the control plane; list networks or drop the block"},
	{"vpc-ranges-disjoint", func(f *fixture) { f.filestoreOnNodes = true },
		"vpc-ranges-disjoint: gcp:compute/subnetwork:Subnetwork nodes ipCidrRange 10.10.0.0/20 overlaps gcp:filestore/instance:Instance files reservedIpRange 10.10.0.0/26"},
	{"filestore-sizes", func(f *fixture) { f.filestoreOffStep = true },
		"filestore-sizes: gcp:filestore/instance:Instance files: capacityGb 1100 is not a size the ZONAL tier offers; want 1024 to 9984 GiB in steps of 256 GiB, or 10240 to 102400 GiB in steps of 2560 GiB"},
	{"explicit-provider", func(f *fixture) { f.noProvider = true },
		"explicit-provider: kubernetes:apps/v1:Deployment web: uses the default provider (ambient credentials and context)"},
	{"drain-outlasted", func(f *fixture) { f.shortPreStop = true },
		"drain-outlasted: kubernetes:apps/v1:Deployment web: container web stops serving after 15s (preStop) behind kubernetes:core/v1:Service web, which drains for 30s plus 5s for endpoints to propagate"},
	{"restricted-pods", func(f *fixture) { f.rootInit = true },
		"restricted-pods: kubernetes:apps/v1:Deployment web: container setup may run as root (runAsNonRoot is not true)"},
	{"standard-labels", func(f *fixture) { f.noLabels = true },
		"standard-labels: kubernetes:apps/v1:Deployment web: no label app.kubernetes.io/part-of"},
}

func TestEachRuleFailsOnItsViolation(t *testing.T) {
	cases := violationCases
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
