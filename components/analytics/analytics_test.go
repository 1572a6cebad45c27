package analytics_test

import (
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeAnalytics = "wso2apim:analytics:Analytics"

func boolp(v bool) *bool { return &v }

// minimal are the required args; the password is plain, the component must mark it secret.
func minimal() *analytics.Args {
	return &analytics.Args{Namespace: pulumi.String("apps"), AdminPassword: pulumi.String("Admin-Pw-1-DO-NOT-USE")}
}

func run(t *testing.T, args *analytics.Args) (*harness.Graph, *analytics.Analytics) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, analytics.NewAnalytics, "an", args)
}

func TestAnalyticsAlone(t *testing.T) {
	g, an := run(t, minimal())
	assert.ElementsMatch(t, []string{
		harness.TypeSecret + " an-credentials", harness.TypeConfigMap + " an-shipper",
		harness.TypeService + " an", harness.TypeService + " an-headless", harness.TypeStatefulSet + " an", harness.TypePDB + " an", harness.TypeNetworkPolicy + " an",
		harness.TypeDeployment + " an-dashboards", harness.TypeService + " an-dashboards", harness.TypePDB + " an-dashboards", harness.TypeNetworkPolicy + " an-dashboards",
	}, harness.Children(t, g, typeAnalytics))

	assert.Equal(t, "https://opensearch:9200", an.Endpoint)
	assert.Equal(t, kube.SecretRef{Name: "opensearch-credentials", Key: "admin-password"}, an.Credentials)
	assert.Equal(t, "opensearch-dashboards", an.DashboardsService)
	assert.Equal(t, 5601, an.DashboardsPort)
	assert.Equal(t, "opensearch-shipper", an.ShipperConfigMap)
	assert.Equal(t, "fluent/fluent-bit:3.2.2", an.ShipperImage)

	secret := g.Find(harness.TypeSecret, "an-credentials")
	assert.Equal(t, "opensearch-credentials", secret.Get("metadata.name"))
	assert.Equal(t, "Admin-Pw-1-DO-NOT-USE", secret.Get("stringData.admin-password"))
	assert.True(t, secret.IsSecret("stringData.admin-password"), "marked secret by the component")

	shipper := g.Find(harness.TypeConfigMap, "an-shipper")
	assert.Equal(t, analytics.ShipperConfig("/logs", "opensearch", 9200), shipper.Get("data[fluent-bit.conf]"))
	assert.NotContains(t, shipper.String("data[fluent-bit.conf]"), "DO-NOT-USE")

	sts := g.Find(harness.TypeStatefulSet, "an")
	assert.True(t, sts.Protect, "protected by default")
	assert.Equal(t, "opensearch", sts.Get("metadata.name"))
	assert.Equal(t, "2.19.1", sts.Get("metadata.labels[app.kubernetes.io/version]"), "version from the image")
	assert.Equal(t, "opensearch-headless", sts.Get("spec.serviceName"))
	assert.Equal(t, 1.0, sts.Get("spec.replicas"), "default: a single node")
	assert.Equal(t, "Parallel", sts.Get("spec.podManagementPolicy"))
	assert.Equal(t, "20Gi", sts.Get("spec.volumeClaimTemplates.0.spec.resources.requests.storage"))
	assert.Nil(t, sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"))
	c := "spec.template.spec.containers.0"
	assert.Equal(t, "opensearchproject/opensearch:2.19.1", sts.Get(c+".image"))
	assert.Equal(t, map[string]any{"cpu": "500m", "memory": "2Gi", "ephemeral-storage": "512Mi"}, sts.Get(c+".resources.requests"))
	assert.Equal(t, map[string]any{"cpu": "2", "memory": "2Gi", "ephemeral-storage": "2Gi"}, sts.Get(c+".resources.limits"))
	e := harness.Env(t, sts, c)
	assert.Equal(t, "-Xms1024m -Xmx1024m", e["OPENSEARCH_JAVA_OPTS"], "default heap")
	assert.Equal(t, "single-node", e["discovery.type"])
	assert.NotContains(t, e, "discovery.seed_hosts")
	assert.Equal(t, "secret:opensearch-credentials/admin-password", e["OPENSEARCH_INITIAL_ADMIN_PASSWORD"])
	assert.Equal(t, "false", e["node.store.allow_mmap"])

	headless := g.Find(harness.TypeService, "an-headless")
	assert.Equal(t, "None", headless.Get("spec.clusterIP"))
	assert.Equal(t, true, headless.Get("spec.publishNotReadyAddresses"))
	assert.Len(t, headless.Get("spec.ports"), 2)
	assert.Equal(t, []any{map[string]any{"name": "http", "port": 9200.0, "targetPort": 9200.0}}, g.Find(harness.TypeService, "an").Get("spec.ports"))

	np := g.Find(harness.TypeNetworkPolicy, "an")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{
		"app.kubernetes.io/name": "opensearch-dashboards", "app.kubernetes.io/component": "analytics-dashboards"}}}},
		np.Get("spec.ingress.0.from"), "no shippers given: only Dashboards reaches the HTTP API")
	assert.Equal(t, 9200.0, np.Get("spec.ingress.0.ports.0.port"))
	assert.Equal(t, 9300.0, np.Get("spec.ingress.1.ports.0.port"))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{
		"app.kubernetes.io/name": "opensearch", "app.kubernetes.io/component": "analytics-store"}}}},
		np.Get("spec.egress.0.to"), "the nodes call each other only")
	assert.Len(t, np.Get("spec.egress"), 1)

	dnp := g.Find(harness.TypeNetworkPolicy, "an-dashboards")
	assert.Equal(t, "opensearch-dashboards", dnp.Get("metadata.name"))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}},
		dnp.Get("spec.ingress.0.from"), "no clients given: the namespace's pods")
	assert.Equal(t, 5601.0, dnp.Get("spec.ingress.0.ports.0.port"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "opensearch", "app.kubernetes.io/component": "analytics-store"},
		dnp.Get("spec.egress.0.to.0.podSelector.matchLabels"))
	assert.Equal(t, 9200.0, dnp.Get("spec.egress.0.ports.0.port"))

	dash := g.Find(harness.TypeDeployment, "an-dashboards")
	assert.False(t, dash.Protect)
	assert.Equal(t, "opensearch-dashboards", dash.Get("metadata.name"))
	assert.Equal(t, "opensearchproject/opensearch-dashboards:2.19.1", dash.Get(c+".image"))
	de := harness.Env(t, dash, c)
	assert.Equal(t, `["https://opensearch:9200"]`, de["OPENSEARCH_HOSTS"])
	assert.Equal(t, "secret:opensearch-credentials/admin-password", de["OPENSEARCH_PASSWORD"])
	assert.Equal(t, map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}, dash.Get("spec.strategy.rollingUpdate"))
	assert.Nil(t, g.Find(harness.TypeService, "an-dashboards").Get("metadata.annotations"))

	for _, n := range []string{"an", "an-dashboards"} {
		assert.Equal(t, 1.0, g.Find(harness.TypePDB, n).Get("spec.maxUnavailable"), n)
	}
}

func TestClusterOfThree(t *testing.T) {
	a := minimal()
	a.Name, a.Replicas, a.HeapMB, a.StorageClass = "logs", 3, 1536, "ssd"
	a.Protect = boolp(false)
	a.ShipperClients = []map[string]string{{"app": "gw"}}
	a.DashboardsServiceAnnotations = map[string]string{"cloud.google.com/neg": `{"ingress":true}`}
	a.DashboardsClients = []kube.Peer{{CIDR: "35.191.0.0/16"}}
	g, an := run(t, a)
	assert.Equal(t, "https://logs:9200", an.Endpoint)
	sts := g.Find(harness.TypeStatefulSet, "an")
	assert.False(t, sts.Protect, "Protect false is followed")
	assert.Equal(t, 3.0, sts.Get("spec.replicas"))
	assert.Equal(t, "logs-headless", sts.Get("spec.serviceName"))
	assert.Equal(t, "ssd", sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"))
	e := harness.Env(t, sts, "spec.template.spec.containers.0")
	assert.Equal(t, "logs-headless", e["discovery.seed_hosts"])
	assert.Equal(t, "logs-0,logs-1,logs-2", e["cluster.initial_cluster_manager_nodes"])
	assert.NotContains(t, e, "discovery.type")
	assert.Equal(t, "-Xms1536m -Xmx1536m", e["OPENSEARCH_JAVA_OPTS"])
	assert.Len(t, g.Find(harness.TypeNetworkPolicy, "an").Get("spec.ingress.0.from"), 2, "Dashboards and the shipper clients")
	assert.Equal(t, map[string]any{"app": "gw"}, g.Find(harness.TypeNetworkPolicy, "an").Get("spec.ingress.0.from.1.podSelector.matchLabels"))
	assert.Equal(t, `{"ingress":true}`, g.Find(harness.TypeService, "an-dashboards").Get("metadata.annotations[cloud.google.com/neg]"))
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "35.191.0.0/16"}}},
		g.Find(harness.TypeNetworkPolicy, "an-dashboards").Get("spec.ingress.0.from"), "the clients given replace the namespace")
}

// The sidecar a gateway runs, rendered in a pod of the caller's.
func TestShipperSidecar(t *testing.T) {
	g := harness.MustRunComponent(t, harness.Kubernetes, func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		an, err := analytics.NewAnalytics(ctx, "an", minimal(), k8s)
		if err != nil {
			return err
		}
		vols := corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("logs"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}}}
		for _, v := range analytics.ShipperVolumes(an) {
			vols = append(vols, v)
		}
		_, err = corev1.NewPod(ctx, "gw", &corev1.PodArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("gw")},
			Spec:     &corev1.PodSpecArgs{Containers: corev1.ContainerArray{analytics.ShipperSidecar(an, "logs", 20)}, Volumes: vols},
		}, k8s)
		return err
	})
	pod := g.Find(harness.TypePod, "gw")
	require.NotNil(t, pod)
	c := "spec.containers.0"
	assert.Equal(t, "analytics-shipper", pod.Get(c+".name"))
	assert.Equal(t, "fluent/fluent-bit:3.2.2", pod.Get(c+".image"))
	assert.Equal(t, map[string]string{"OPENSEARCH_PASSWORD": "secret:opensearch-credentials/admin-password"}, harness.Env(t, pod, c))
	assert.Equal(t, []any{
		map[string]any{"name": "logs", "mountPath": "/logs", "readOnly": true},
		map[string]any{"name": "shipper-conf", "mountPath": "/fluent-bit/etc/conf", "readOnly": true},
		map[string]any{"name": "shipper-state", "mountPath": "/state"},
	}, pod.Get(c+".volumeMounts"))
	assert.Equal(t, map[string]any{"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "256Mi"}, pod.Get(c+".resources.limits"))
	assert.Equal(t, "/api/v1/health", pod.Get(c+".readinessProbe.httpGet.path"), "ready while its outputs work")
	assert.Equal(t, "/", pod.Get(c+".livenessProbe.httpGet.path"), "alive while it answers: a failing output is no reason to restart")
	assert.Equal(t, "opensearch-shipper", pod.Get("spec.volumes.1.configMap.name"))
	assert.Equal(t, "shipper-state", pod.Get("spec.volumes.2.name"))
}

func TestShipperConfig(t *testing.T) {
	conf := analytics.ShipperConfig("/logs", "opensearch", 9200)
	assert.Contains(t, conf, "Path              /logs/apim_metrics.log\n")
	assert.Contains(t, conf, "Host              opensearch\n")
	assert.Contains(t, conf, "Port              9200\n")
	assert.Contains(t, conf, "Index             apim_event_response\n")
	assert.Contains(t, conf, "Index             apim_event_faulty\n")
	assert.Contains(t, conf, "HTTP_Passwd       ${OPENSEARCH_PASSWORD}\n", "the password from the environment")
	assert.Contains(t, analytics.ShipperConfig("/var/log/x", "os", 443), "Path              /var/log/x/apim_metrics.log\n")
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*analytics.Args]{
		{"nil args", nil, `analytics "an": args are required`},
		{"nothing set", &analytics.Args{}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"no password", &analytics.Args{Namespace: pulumi.String("apps")}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"no namespace", &analytics.Args{AdminPassword: pulumi.String("x")}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"bad values and a missing one", &analytics.Args{Namespace: pulumi.String("apps"), Replicas: 2, StorageSize: "lots"},
			`analytics "an": replicas: 2 is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum; ` +
				`storageSize: "lots" is not valid; want a size such as 20Gi; args: Namespace and AdminPassword are required`},
	}
	harness.ExpectRefusals(t, analytics.NewAnalytics, "an", cases)
}

func TestRefusesNegativeHeap(t *testing.T) {
	p := analytics.Args{HeapMB: -512}.WithDefaults().Validate("analytics")
	require.NotEmpty(t, p)
	assert.Contains(t, p[0], "analytics.heapMb: -512")
}

func TestWithDefaults(t *testing.T) {
	a := analytics.Args{}.WithDefaults()
	assert.Equal(t, "opensearch", a.Name)
	assert.Equal(t, "opensearch-dashboards", a.DashboardsName())
	assert.Equal(t, 1, a.Replicas)
	assert.Equal(t, "opensearchproject/opensearch:2.19.1", a.Image)
	assert.Equal(t, "opensearchproject/opensearch-dashboards:2.19.1", a.DashboardsImage)
	assert.Equal(t, "fluent/fluent-bit:3.2.2", a.ShipperImage)
	assert.Equal(t, "20Gi", a.StorageSize)
	assert.Equal(t, kube.Resources{Requests: kube.Compute{CPU: "500m", Memory: "2Gi", EphemeralStorage: "512Mi"},
		Limits: kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "2Gi"}}, a.Resources)
	assert.Equal(t, 1024, a.HeapMB)
	require.NotNil(t, a.Protect)
	assert.True(t, *a.Protect)
}

func TestValidate(t *testing.T) {
	const quorum = "is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum"
	cases := []harness.Validation[analytics.Args]{
		{"defaults", analytics.Args{}, ""},
		{"three replicas", analytics.Args{Replicas: 3}, ""},
		{"five replicas", analytics.Args{Replicas: 5}, ""},
		{"two replicas", analytics.Args{Replicas: 2}, "analytics.replicas: 2 " + quorum},
		{"four replicas", analytics.Args{Replicas: 4}, "analytics.replicas: 4 " + quorum},
		{"negative replicas", analytics.Args{Replicas: -1}, "analytics.replicas: -1 " + quorum},
		{"resources", analytics.Args{Resources: kube.Resources{Requests: kube.Compute{CPU: "3"}}},
			"analytics.resources.requests.cpu: 3 is above analytics.resources.limits.cpu (2); want requests <= limits"},
		{"heap at 75% of the limit", analytics.Args{HeapMB: 1536}, ""},
		{"heap above 75% of the limit", analytics.Args{HeapMB: 1537},
			"analytics.heapMb: 1537 MiB does not fit analytics.resources.limits.memory (2Gi); OpenSearch wants the heap at about half the memory"},
		{"heap with a larger limit", analytics.Args{HeapMB: 3072, Resources: kube.Resources{Limits: kube.Compute{Memory: "4Gi"}}}, ""},
		{"storage size", analytics.Args{StorageSize: "20 Gi"}, `analytics.storageSize: "20 Gi" is not valid; want a size such as 20Gi`},
		{"image", analytics.Args{Image: "open search"},
			`analytics.image: "open search" is not valid; want an image reference such as opensearchproject/opensearch:2.19.1`},
		{"dashboards image", analytics.Args{DashboardsImage: "dash board"},
			`analytics.dashboardsImage: "dash board" is not valid; want an image reference such as opensearchproject/opensearch-dashboards:2.19.1`},
		{"shipper image", analytics.Args{ShipperImage: "fluent bit"},
			`analytics.shipperImage: "fluent bit" is not valid; want an image reference such as fluent/fluent-bit:3.2.2`},
		{"images valid", analytics.Args{Image: "mirror/os:2", DashboardsImage: "mirror/osd:2", ShipperImage: "mirror/fb:3"}, ""},
	}
	harness.ExpectProblems(t, func(args analytics.Args) []string { return args.WithDefaults().Validate("analytics") }, cases)
}
