package kube_test

import (
	"regexp"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func TestMemoryBytes(t *testing.T) {
	ok := map[string]int64{
		"0":     0,
		"1024":  1024,
		"1k":    1000,
		"1Ki":   1024,
		"512Mi": 512 << 20,
		"2Gi":   2 << 30,
		"1Ti":   1 << 40,
		"5M":    5_000_000,
		"3G":    3_000_000_000,
		"2T":    2_000_000_000_000,
	}
	for q, want := range ok {
		got, err := kube.MemoryBytes(q)
		require.NoError(t, err, q)
		assert.Equal(t, want, got, q)
	}
	for _, q := range []string{"", "Gi", "1.5Gi", "-1Gi", "2GB", "2gi", "2 Gi", "1Pi", "1e3", "0x10"} {
		_, err := kube.MemoryBytes(q)
		require.Error(t, err, "%q must be refused", q)
		assert.Equal(t, `"`+q+`" is not a memory quantity such as 2Gi or 512Mi`, err.Error())
	}
}

func TestMilliCPU(t *testing.T) {
	ok := map[string]int64{
		"0":     0,
		"2":     2000,
		"1.5":   1500,
		"0.25":  250,
		"500m":  500,
		"2000m": 2000,
		"10m":   10,
	}
	for q, want := range ok {
		got, err := kube.MilliCPU(q)
		require.NoError(t, err, q)
		assert.Equal(t, want, got, q)
	}
	for _, q := range []string{"", "m", "1.5m", "-1", "2 cores", ".5", "1.", "2M", "1e3"} {
		_, err := kube.MilliCPU(q)
		require.Error(t, err, "%q must be refused", q)
		assert.Equal(t, `"`+q+`" is not a CPU quantity such as 2 or 500m`, err.Error())
	}
}

// A decimal CPU quantity is parsed as a float and truncated, so some exact values lose a
// millicore: 1.001 * 1000 is 1000.9999999999999 in float64.
func TestMilliCPUIsExactForDecimals(t *testing.T) {
	got, err := kube.MilliCPU("1.001")
	require.NoError(t, err)
	assert.Equal(t, int64(1001), got)
}

// A huge quantity overflows int64 silently and comes back negative, so a limit of 9000000Ti
// compares as smaller than any request.
func TestMemoryBytesRefusesOverflow(t *testing.T) {
	got, err := kube.MemoryBytes("9000000Ti")
	if err == nil {
		assert.Positive(t, got)
	}
	require.Error(t, err)
}

func TestImageTag(t *testing.T) {
	cases := map[string]string{
		"wso2/wso2am:4.7.0":                  "4.7.0",
		"wso2/wso2am:4.7.0-alpine":           "4.7.0-alpine",
		"mysql:8.4":                          "8.4",
		"mysql":                              "",
		"registry.example:5000/wso2/wso2am":  "",
		"registry.example:5000/wso2am:4.6.0": "4.6.0",
		"wso2/wso2am@sha256:abcd":            "",
		"wso2/wso2am:4.7.0@sha256:abcd":      "",
		"":                                   "",
	}
	for image, want := range cases {
		assert.Equal(t, want, kube.ImageTag(image), image)
	}
}

func TestLabels(t *testing.T) {
	t.Run("standard labels", func(t *testing.T) {
		assert.Equal(t, map[string]string{
			"app.kubernetes.io/name":       "apim-gw",
			"app.kubernetes.io/component":  "gateway",
			"app.kubernetes.io/part-of":    "wso2-apim",
			"app.kubernetes.io/managed-by": "pulumi",
			"app.kubernetes.io/version":    "4.7.0",
		}, kube.Labels("apim-gw", "gateway", "4.7.0", nil))
	})
	t.Run("no version, no version label", func(t *testing.T) {
		l := kube.Labels("hello", "backend", "", nil)
		assert.NotContains(t, l, "app.kubernetes.io/version")
		assert.Len(t, l, 4)
	})
	t.Run("caller's labels are merged last and win", func(t *testing.T) {
		extra := map[string]string{
			"team":                      "payments",
			"app.kubernetes.io/part-of": "mine",
			"app.kubernetes.io/version": "custom",
		}
		l := kube.Labels("hello", "backend", "1.0", extra)
		assert.Equal(t, "payments", l["team"])
		assert.Equal(t, "mine", l["app.kubernetes.io/part-of"], "the caller overrides a standard label")
		assert.Equal(t, "custom", l["app.kubernetes.io/version"])
		assert.Equal(t, "hello", l["app.kubernetes.io/name"], "labels the caller does not set stay")
		assert.Equal(t, map[string]string{
			"team": "payments", "app.kubernetes.io/part-of": "mine", "app.kubernetes.io/version": "custom",
		}, extra, "the caller's map is not modified")
	})
}

func TestSelectorIsTheStableSubsetOfLabels(t *testing.T) {
	sel := kube.Selector("apim-gw", "gateway")
	assert.Equal(t, map[string]string{
		"app.kubernetes.io/name":      "apim-gw",
		"app.kubernetes.io/component": "gateway",
	}, sel)
	labels := kube.Labels("apim-gw", "gateway", "4.7.0", map[string]string{"extra": "x"})
	for k, v := range sel {
		assert.Equal(t, v, labels[k], "pods' labels must match their selector: %s", k)
	}
	assert.Equal(t, sel, kube.Selector("apim-gw", "gateway"), "the same for another version")
}

func TestChecksum(t *testing.T) {
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	a := kube.Checksum("[server]\nhostname = \"a\"\n")
	assert.Regexp(t, hex64, a)
	assert.Equal(t, a, kube.Checksum("[server]\nhostname = \"a\"\n"), "deterministic")
	assert.NotEqual(t, a, kube.Checksum("[server]\nhostname = \"b\"\n"), "changes with the content")
	assert.NotEqual(t, kube.Checksum("ab", "c"), kube.Checksum("a", "bc"), "parts are delimited")
	assert.NotEqual(t, kube.Checksum("a"), kube.Checksum("a", ""), "an added empty part counts")
	// sha256 of "" followed by one NUL separator: a fixed point proving the algorithm.
	assert.Equal(t, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", kube.Checksum(""))
}

func TestResourcesWithDefaults(t *testing.T) {
	def := kube.Resources{Requests: kube.Compute{CPU: "500m", Memory: "1Gi"}, Limits: kube.Compute{CPU: "2", Memory: "2Gi"}}
	cases := []struct {
		name   string
		in     kube.Resources
		expect kube.Resources
	}{
		{"empty takes every default", kube.Resources{}, def},
		{"set values stay", kube.Resources{Requests: kube.Compute{CPU: "1", Memory: "3Gi"}, Limits: kube.Compute{CPU: "4", Memory: "4Gi"}},
			kube.Resources{Requests: kube.Compute{CPU: "1", Memory: "3Gi"}, Limits: kube.Compute{CPU: "4", Memory: "4Gi"}}},
		{"each quantity on its own", kube.Resources{Requests: kube.Compute{Memory: "1500Mi"}, Limits: kube.Compute{CPU: "3"}},
			kube.Resources{Requests: kube.Compute{CPU: "500m", Memory: "1500Mi"}, Limits: kube.Compute{CPU: "3", Memory: "2Gi"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.expect, c.in.WithDefaults(def))
		})
	}
}

func TestResourcesArgs(t *testing.T) {
	r := kube.Resources{Requests: kube.Compute{CPU: "250m", Memory: "256Mi"}, Limits: kube.Compute{CPU: "1", Memory: "512Mi"}}.Args()
	require.NotNil(t, r)
	assert.Equal(t, pulumi.StringMap{"cpu": pulumi.String("250m"), "memory": pulumi.String("256Mi")}, r.Requests)
	assert.Equal(t, pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("512Mi")}, r.Limits)
}

func TestSortedKeys(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, kube.SortedKeys(map[string]int{"c": 3, "a": 1, "b": 2}))
	assert.Empty(t, kube.SortedKeys(map[string]string{}))
}

// The helpers that build specs, rendered through a Pod, a NetworkPolicy and a PDB registered
// with an explicit provider: what the API server would receive.
func TestSpecHelpersRendered(t *testing.T) {
	g := harness.MustRunComponent(t, harness.Kubernetes, func(ctx *pulumi.Context, withK8s pulumi.ResourceOption) error {
		ns := pulumi.String("apps")
		sel := kube.Selector("web", "frontend")
		meta := kube.Meta("web", ns, kube.Labels("web", "frontend", "1.0", nil))
		if _, err := corev1.NewPod(ctx, "web", &corev1.PodArgs{
			Metadata: meta,
			Spec: &corev1.PodSpecArgs{
				SecurityContext:           kube.PodSecurity(1000),
				TopologySpreadConstraints: kube.Spread(sel, kube.SpreadNodesRequired, "pod-template-hash"),
				Containers: corev1.ContainerArray{corev1.ContainerArgs{
					Name:            pulumi.String("web"),
					Image:           pulumi.String("web:1.0"),
					SecurityContext: kube.ContainerSecurity(1000, true),
					Env:             corev1.EnvVarArray{kube.SecretEnv("DB_PASSWORD", kube.SecretRef{Name: "db", Key: "password"})},
				}},
			},
		}, withK8s); err != nil {
			return err
		}
		in := []kube.Rule{
			{Peers: []kube.Peer{{Pods: map[string]string{"role": "a"}}, {Pods: map[string]string{"role": "b"}, Namespaces: map[string]string{"team": "b"}}}, Ports: kube.TCP(80, 443)},
			{Peers: []kube.Peer{{CIDR: "10.0.0.0/8"}}, Ports: []kube.Port{{Number: 53, Protocol: "UDP"}}},
		}
		out := []kube.Rule{{Peers: []kube.Peer{kube.InNamespace("db")}, Ports: kube.TCP(3306)}}
		if err := kube.NewPolicy(ctx, "web", meta, sel, in, out, withK8s); err != nil {
			return err
		}
		if err := kube.NewPolicy(ctx, "closed", &metav1.ObjectMetaArgs{Name: pulumi.String("closed"), Namespace: ns}, sel, nil, nil, withK8s); err != nil {
			return err
		}
		if err := kube.NewNamespacePolicies(ctx, "apps", ns, withK8s); err != nil {
			return err
		}
		return kube.NewDrainablePDB(ctx, "web", meta, sel, withK8s)
	})
	prov := g.Find(harness.TypeKubernetesProvider, "k8s")
	require.NotNil(t, prov)

	pod := g.Find(harness.TypePod, "web")
	require.NotNil(t, pod)
	assert.Equal(t, prov.URN, pod.Provider)
	assert.Equal(t, "web", pod.Get("metadata.name"))
	assert.Equal(t, "apps", pod.Get("metadata.namespace"))
	assert.Equal(t, "1.0", pod.Get("metadata.labels[app.kubernetes.io/version]"))
	assert.Equal(t, map[string]any{
		"runAsUser": 1000.0, "runAsGroup": 1000.0, "fsGroup": 1000.0, "runAsNonRoot": true,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}, pod.Get("spec.securityContext"))
	assert.Equal(t, map[string]any{
		"runAsUser": 1000.0, "runAsGroup": 1000.0, "runAsNonRoot": true, "allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}},
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}, pod.Get("spec.containers.0.securityContext"))
	assert.Equal(t, map[string]any{
		"name":      "DB_PASSWORD",
		"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "db", "key": "password"}},
	}, pod.Get("spec.containers.0.env.0"), "a Secret reference, never a literal value")
	matchSel := map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "web", "app.kubernetes.io/component": "frontend"}}
	assert.Equal(t, []any{
		// A lost zone's nodes remain (NotReady): a hard zone rule would refuse the
		// replacements in the zones left.
		map[string]any{"maxSkew": 1.0, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
			"labelSelector": matchSel, "nodeTaintsPolicy": "Honor", "matchLabelKeys": []any{"pod-template-hash"}},
		map[string]any{"maxSkew": 1.0, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
			"labelSelector": matchSel, "nodeTaintsPolicy": "Honor", "matchLabelKeys": []any{"pod-template-hash"}},
	}, pod.Get("spec.topologySpreadConstraints"))
	soft := kube.Spread(kube.Selector("web", "frontend"), kube.SpreadNodesPreferred)
	require.Len(t, soft, 2)
	assert.Equal(t, pulumi.String("ScheduleAnyway"), soft[1].(corev1.TopologySpreadConstraintArgs).WhenUnsatisfiable, "preferred: a one-node cluster still schedules")
	assert.Nil(t, soft[1].(corev1.TopologySpreadConstraintArgs).MatchLabelKeys)

	np := g.Find(harness.TypeNetworkPolicy, "web")
	require.NotNil(t, np)
	assert.Equal(t, prov.URN, np.Provider)
	assert.Equal(t, []any{"Ingress", "Egress"}, np.Get("spec.policyTypes"), "both directions are allow-lists")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "web", "app.kubernetes.io/component": "frontend"}, np.Get("spec.podSelector.matchLabels"))
	require.Len(t, np.Get("spec.ingress"), 2)
	assert.Equal(t, []any{
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"role": "a"}}},
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"role": "b"}},
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"team": "b"}}},
	}, np.Get("spec.ingress.0.from"))
	assert.Equal(t, []any{
		map[string]any{"protocol": "TCP", "port": 80.0},
		map[string]any{"protocol": "TCP", "port": 443.0},
	}, np.Get("spec.ingress.0.ports"))
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/8"}}}, np.Get("spec.ingress.1.from"))
	assert.Equal(t, []any{map[string]any{"protocol": "UDP", "port": 53.0}}, np.Get("spec.ingress.1.ports"))
	assert.Equal(t, []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "db"}}}},
		np.Get("spec.egress.0.to"), "a namespace peer selects every pod of it: no podSelector")

	closed := g.Find(harness.TypeNetworkPolicy, "closed")
	require.NotNil(t, closed)
	assert.Equal(t, []any{}, closed.Get("spec.ingress"), "no rule: nobody may connect")
	assert.Equal(t, []any{}, closed.Get("spec.egress"), "no rule: it may call nobody")

	deny := g.Find(harness.TypeNetworkPolicy, "apps-default-deny")
	require.NotNil(t, deny)
	assert.Equal(t, "default-deny", deny.Get("metadata.name"))
	assert.Equal(t, map[string]any{}, deny.Get("spec.podSelector.matchLabels"), "every pod of the namespace")
	assert.Equal(t, []any{}, deny.Get("spec.ingress"))
	assert.Equal(t, []any{}, deny.Get("spec.egress"))
	dns := g.Find(harness.TypeNetworkPolicy, "apps-allow-dns")
	require.NotNil(t, dns)
	assert.Equal(t, []any{"Egress"}, dns.Get("spec.policyTypes"), "adds lookups, restricts nothing inbound")
	assert.Equal(t, []any{
		map[string]any{"protocol": "UDP", "port": 53.0},
		map[string]any{"protocol": "TCP", "port": 53.0},
	}, dns.Get("spec.egress.0.ports"))

	pdb := g.Find(harness.TypePDB, "web")
	require.NotNil(t, pdb)
	assert.Equal(t, prov.URN, pdb.Provider)
	assert.Equal(t, 1.0, pdb.Get("spec.maxUnavailable"), "one pod at a time, and a drain is never blocked")
	assert.Nil(t, pdb.Get("spec.minAvailable"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "web", "app.kubernetes.io/component": "frontend"}, pdb.Get("spec.selector.matchLabels"))
}
