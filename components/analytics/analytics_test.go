package analytics_test

import (
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeAnalytics   = "wso2apim:analytics:Analytics"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeService     = "kubernetes:core/v1:Service"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typePDB         = "kubernetes:policy/v1:PodDisruptionBudget"
	typeNetPol      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typePod         = "kubernetes:core/v1:Pod"
)

func boolp(v bool) *bool { return &v }

// minimal are the required args; the password is plain, the component must mark it secret.
func minimal() *analytics.Args {
	return &analytics.Args{Namespace: pulumi.String("apps"), AdminPassword: pulumi.String("Admin-Pw-1-DO-NOT-USE")}
}

func run(t *testing.T, args *analytics.Args) (*harness.Graph, *analytics.Analytics) {
	t.Helper()
	var an *analytics.Analytics
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		an, err = analytics.NewAnalytics(ctx, "an", args, pulumi.Provider(k8s))
		return err
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	return g, an
}

func children(t *testing.T, g *harness.Graph) []string {
	t.Helper()
	comp := g.OfType(typeAnalytics)
	require.Len(t, comp, 1)
	prov := g.Find("pulumi:providers:kubernetes", "k8s")
	require.NotNil(t, prov)
	var out []string
	for _, r := range g.All() {
		if r == comp[0] || r == prov {
			continue
		}
		out = append(out, r.Type+" "+r.Name)
		assert.Equal(t, comp[0].URN, r.Parent, "%s %s is the component's child", r.Type, r.Name)
		if r.Custom {
			assert.Equal(t, prov.URN, r.Provider, "%s %s uses the explicit provider", r.Type, r.Name)
		}
	}
	return out
}

// env returns a container's environment as name → value (or "secret:<name>/<key>").
func env(t *testing.T, r *harness.Resource, container string) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, _ := r.Get(container + ".env").([]any)
	require.NotEmpty(t, list)
	for _, e := range list {
		m := e.(map[string]any)
		switch {
		case m["value"] != nil:
			out[m["name"].(string)] = m["value"].(string)
		case m["valueFrom"] != nil:
			if ref, ok := m["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any); ok {
				out[m["name"].(string)] = "secret:" + ref["name"].(string) + "/" + ref["key"].(string)
			} else {
				out[m["name"].(string)] = "field"
			}
		}
	}
	return out
}

func TestAnalyticsAlone(t *testing.T) {
	g, an := run(t, minimal())
	assert.ElementsMatch(t, []string{
		typeSecret + " an-credentials", typeConfigMap + " an-shipper",
		typeService + " an", typeService + " an-headless", typeStatefulSet + " an", typePDB + " an", typeNetPol + " an",
		typeDeployment + " an-dashboards", typeService + " an-dashboards", typePDB + " an-dashboards", typeNetPol + " an-dashboards",
	}, children(t, g))

	assert.Equal(t, "https://opensearch:9200", an.Endpoint)
	assert.Equal(t, kube.SecretRef{Name: "opensearch-credentials", Key: "admin-password"}, an.Credentials)
	assert.Equal(t, "opensearch-dashboards", an.DashboardsService)
	assert.Equal(t, 5601, an.DashboardsPort)
	assert.Equal(t, "opensearch-shipper", an.ShipperConfigMap)
	assert.Equal(t, "fluent/fluent-bit:3.2.2", an.ShipperImage)

	secret := g.Find(typeSecret, "an-credentials")
	assert.Equal(t, "opensearch-credentials", secret.Get("metadata.name"))
	assert.Equal(t, "Admin-Pw-1-DO-NOT-USE", secret.Get("stringData.admin-password"))
	assert.True(t, secret.IsSecret("stringData.admin-password"), "marked secret by the component")

	shipper := g.Find(typeConfigMap, "an-shipper")
	assert.Equal(t, analytics.ShipperConfig("/logs", "opensearch", 9200), shipper.Get("data[fluent-bit.conf]"))
	assert.NotContains(t, shipper.String("data[fluent-bit.conf]"), "DO-NOT-USE")

	sts := g.Find(typeStatefulSet, "an")
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
	e := env(t, sts, c)
	assert.Equal(t, "-Xms1024m -Xmx1024m", e["OPENSEARCH_JAVA_OPTS"], "default heap")
	assert.Equal(t, "single-node", e["discovery.type"])
	assert.NotContains(t, e, "discovery.seed_hosts")
	assert.Equal(t, "secret:opensearch-credentials/admin-password", e["OPENSEARCH_INITIAL_ADMIN_PASSWORD"])
	assert.Equal(t, "false", e["node.store.allow_mmap"])

	headless := g.Find(typeService, "an-headless")
	assert.Equal(t, "None", headless.Get("spec.clusterIP"))
	assert.Equal(t, true, headless.Get("spec.publishNotReadyAddresses"))
	assert.Len(t, headless.Get("spec.ports"), 2)
	assert.Equal(t, []any{map[string]any{"name": "http", "port": 9200.0, "targetPort": 9200.0}}, g.Find(typeService, "an").Get("spec.ports"))

	np := g.Find(typeNetPol, "an")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{
		"app.kubernetes.io/name": "opensearch-dashboards", "app.kubernetes.io/component": "analytics-dashboards"}}}},
		np.Get("spec.ingress.0.from"), "no shippers given: only Dashboards reaches the HTTP API")
	assert.Equal(t, 9200.0, np.Get("spec.ingress.0.ports.0.port"))
	assert.Equal(t, 9300.0, np.Get("spec.ingress.1.ports.0.port"))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{
		"app.kubernetes.io/name": "opensearch", "app.kubernetes.io/component": "analytics-store"}}}},
		np.Get("spec.egress.0.to"), "the nodes call each other only")
	assert.Len(t, np.Get("spec.egress"), 1)

	dnp := g.Find(typeNetPol, "an-dashboards")
	assert.Equal(t, "opensearch-dashboards", dnp.Get("metadata.name"))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}},
		dnp.Get("spec.ingress.0.from"), "no clients given: the namespace's pods")
	assert.Equal(t, 5601.0, dnp.Get("spec.ingress.0.ports.0.port"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "opensearch", "app.kubernetes.io/component": "analytics-store"},
		dnp.Get("spec.egress.0.to.0.podSelector.matchLabels"))
	assert.Equal(t, 9200.0, dnp.Get("spec.egress.0.ports.0.port"))

	dash := g.Find(typeDeployment, "an-dashboards")
	assert.False(t, dash.Protect)
	assert.Equal(t, "opensearch-dashboards", dash.Get("metadata.name"))
	assert.Equal(t, "opensearchproject/opensearch-dashboards:2.19.1", dash.Get(c+".image"))
	de := env(t, dash, c)
	assert.Equal(t, `["https://opensearch:9200"]`, de["OPENSEARCH_HOSTS"])
	assert.Equal(t, "secret:opensearch-credentials/admin-password", de["OPENSEARCH_PASSWORD"])
	assert.Equal(t, map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}, dash.Get("spec.strategy.rollingUpdate"))
	assert.Nil(t, g.Find(typeService, "an-dashboards").Get("metadata.annotations"))

	for _, n := range []string{"an", "an-dashboards"} {
		assert.Equal(t, 1.0, g.Find(typePDB, n).Get("spec.maxUnavailable"), n)
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
	sts := g.Find(typeStatefulSet, "an")
	assert.False(t, sts.Protect, "Protect false is followed")
	assert.Equal(t, 3.0, sts.Get("spec.replicas"))
	assert.Equal(t, "logs-headless", sts.Get("spec.serviceName"))
	assert.Equal(t, "ssd", sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"))
	e := env(t, sts, "spec.template.spec.containers.0")
	assert.Equal(t, "logs-headless", e["discovery.seed_hosts"])
	assert.Equal(t, "logs-0,logs-1,logs-2", e["cluster.initial_cluster_manager_nodes"])
	assert.NotContains(t, e, "discovery.type")
	assert.Equal(t, "-Xms1536m -Xmx1536m", e["OPENSEARCH_JAVA_OPTS"])
	assert.Len(t, g.Find(typeNetPol, "an").Get("spec.ingress.0.from"), 2, "Dashboards and the shipper clients")
	assert.Equal(t, map[string]any{"app": "gw"}, g.Find(typeNetPol, "an").Get("spec.ingress.0.from.1.podSelector.matchLabels"))
	assert.Equal(t, `{"ingress":true}`, g.Find(typeService, "an-dashboards").Get("metadata.annotations[cloud.google.com/neg]"))
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "35.191.0.0/16"}}},
		g.Find(typeNetPol, "an-dashboards").Get("spec.ingress.0.from"), "the clients given replace the namespace")
}

// The sidecar a gateway runs, rendered in a pod of the caller's.
func TestShipperSidecar(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		an, err := analytics.NewAnalytics(ctx, "an", minimal(), pulumi.Provider(k8s))
		if err != nil {
			return err
		}
		vols := corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("logs"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}}}
		for _, v := range analytics.ShipperVolumes(an) {
			vols = append(vols, v)
		}
		_, err = corev1.NewPod(ctx, "gw", &corev1.PodArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("gw")},
			Spec:     &corev1.PodSpecArgs{Containers: corev1.ContainerArray{analytics.ShipperSidecar(an, "logs")}, Volumes: vols},
		}, pulumi.Provider(k8s))
		return err
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	pod := g.Find(typePod, "gw")
	require.NotNil(t, pod)
	c := "spec.containers.0"
	assert.Equal(t, "analytics-shipper", pod.Get(c+".name"))
	assert.Equal(t, "fluent/fluent-bit:3.2.2", pod.Get(c+".image"))
	assert.Equal(t, map[string]string{"OPENSEARCH_PASSWORD": "secret:opensearch-credentials/admin-password"}, env(t, pod, c))
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

func refused(t *testing.T, args *analytics.Args) error {
	t.Helper()
	var newErr error
	program := func(ctx *pulumi.Context) error {
		_, newErr = analytics.NewAnalytics(ctx, "an", args)
		return newErr
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Empty(t, g.All(), "nothing registered")
	return newErr
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []struct {
		name string
		args *analytics.Args
		want string
	}{
		{"nil args", nil, `analytics "an": args are required`},
		{"nothing set", &analytics.Args{}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"no password", &analytics.Args{Namespace: pulumi.String("apps")}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"no namespace", &analytics.Args{AdminPassword: pulumi.String("x")}, `analytics "an": args: Namespace and AdminPassword are required`},
		{"bad values and a missing one", &analytics.Args{Namespace: pulumi.String("apps"), Replicas: 2, StorageSize: "lots"},
			`analytics "an": replicas: 2 is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum; ` +
				`storageSize: "lots" is not valid; want a size such as 20Gi; args: Namespace and AdminPassword are required`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := refused(t, c.args)
			require.Error(t, err)
			assert.EqualError(t, err, c.want)
		})
	}
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
	cases := []struct {
		name string
		args analytics.Args
		want string // "": valid
	}{
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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.args.WithDefaults().Validate("analytics")
			if c.want == "" {
				assert.Empty(t, p)
				return
			}
			assert.Contains(t, p, c.want)
			assert.Len(t, p, 1, "one problem only: %v", p)
		})
	}
}
