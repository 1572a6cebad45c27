package tests

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/platform"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// ancestorOf returns the first ancestor of r (r included) of type typ, or nil.
func ancestorOf(g *harness.Graph, r *harness.Resource, typ string) *harness.Resource {
	for x := r; x != nil; x = g.ParentOf(x) {
		if x.Type == typ {
			return x
		}
	}
	return nil
}

// Every resource a stack registers, providers included, descends from its one Platform.
func TestEveryResourceDescendsFromThePlatform(t *testing.T) {
	for _, stack := range stackNames {
		g := run(t, stack, nil)
		roots := g.OfType(typePlatform)
		require.Len(t, roots, 1, stack)
		for _, r := range g.All() {
			assert.NotNil(t, ancestorOf(g, r, typePlatform), "%s: %s %s is outside the Platform", stack, r.Type, r.Name)
		}
	}
}

// Two Platforms in one program: two environments in one existing cluster and one on GKE. The
// harness refuses a duplicate URN as the engine does, so this fails on any child named
// without its parent's name.
func TestTwoPlatformsInOneProgram(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		for _, name := range []string{"blue", "green"} {
			if _, err := platform.NewPlatform(ctx, name, &platform.Args{
				Cluster: platform.ClusterArgs{Mode: platform.ModeExisting},
			}); err != nil {
				return err
			}
		}
		_, err := platform.NewPlatform(ctx, "cloud", &platform.Args{
			Cluster: platform.ClusterArgs{ClusterArgs: gke.ClusterArgs{Project: "my-project-1", Region: "europe-west1"}},
		})
		return err
	}
	g, err := harness.RunWithConfig(program, "mine", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	roots := g.OfType(typePlatform)
	require.Len(t, roots, 3)
	for _, r := range g.All() {
		p := ancestorOf(g, r, typePlatform)
		if !assert.NotNil(t, p, "%s %s is outside every Platform", r.Type, r.Name) {
			continue
		}
		assert.True(t, strings.HasPrefix(r.Name, p.Name), "%s %s is not named from its Platform %s", r.Type, r.Name, p.Name)
	}
	// Their cluster-wide and namespaced Kubernetes names do not collide either.
	var namespaces, volumes []string
	for _, ns := range g.OfType(typeNamespace) {
		namespaces = append(namespaces, ns.String("metadata.name"))
	}
	for _, pv := range g.OfType(typePV) {
		volumes = append(volumes, pv.String("metadata.name"))
	}
	assert.ElementsMatch(t, []string{"wso2-blue", "wso2-blue-nfs", "wso2-green", "wso2-green-nfs", "wso2-cloud"}, namespaces)
	assert.ElementsMatch(t, []string{"apim-shared-wso2-blue", "apim-shared-wso2-green", "apim-shared-wso2-cloud"}, volumes)
	assert.Equal(t, "cloud-test", one(t, g, typeCluster).Get("name"), "the cluster is named from the Platform and the stack")
}

// The harness is what makes the test above meaningful: it must refuse a duplicate URN.
func TestHarnessRefusesDuplicateURNs(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		for range 2 {
			if _, err := corev1.NewNamespace(ctx, "same", &corev1.NamespaceArgs{}); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := harness.RunWithConfig(program, "mine", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "duplicate resource URN urn:pulumi:test::mine::kubernetes:core/v1:Namespace::same")
}

// Every shipped GKE stack fits its node pool at full scale, with a surge pod.
func TestShippedStacksFitTheirNodePools(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		_, err := harness.Run(stacks.Program, stack, harness.Options{})
		require.NoError(t, err, stack)
	}
}

// Dev as first shipped: the control plane and two gateways requesting 2 CPU each, plus a
// rolling-update surge gateway, need four e2-standard-4 nodes; maxNodes 3 forbids the fourth.
func TestCapacityCheckRefusesAPoolTooSmall(t *testing.T) {
	twoCPU := map[string]any{"requests": map[string]any{"cpu": "2", "memory": "2Gi"}}
	g, err := harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{
		"apim.resources": twoCPU, "gateway.resources": twoCPU,
	}})
	require.Error(t, err)
	var cfgErr *stacks.ConfigError
	require.True(t, errors.As(err, &cfgErr))
	// By hand: an e2-standard-4 (4 CPU, 16 GiB) keeps 4000m - (60m + 10m + 10m) - 200m = 3.72
	// CPU and 16 GiB - (1 + 0.8 + 0.8) GiB - 100 MiB - 400 MiB = 12.9 GiB; the pods request
	// 2 (control plane) + 3 x 2.05 (gateways with their shipper, surge included) + 0.1 (Cloud
	// SQL's schema Job) + 0.01 (hello) + 0.05 (publisher) + 0.5 (OpenSearch) + 0.1 (Dashboards)
	// = 8.91 CPU.
	assert.Equal(t, []string{"nodePool.maxNodes: 3 is too few: the workloads at full scale do not fit on 3 e2-standard-4 nodes (3 per zone in 1 zone), " +
		"each with 3.72 CPU and 12.9 GiB allocatable to pods (after GKE's reservations and 200m CPU / 400Mi for its DaemonSets): " +
		"9 pods (every workload at its maximum replicas plus one rolling-update surge pod of apim-gw) request 8.91 CPU and 10.9 GiB in all, " +
		"and apim-cp (2 CPU, 2.0 GiB) finds no room; raise nodePool.maxNodes, choose a larger nodePool.machineType, or lower the requests"},
		cfgErr.Problems)
	assert.Empty(t, g.All())

	// One more node is enough.
	_, err = harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{
		"apim.resources": twoCPU, "gateway.resources": twoCPU, "nodePool.maxNodes": 4,
	}})
	require.NoError(t, err)
}

// Secrets the user did not set are generated, one Kubernetes Secret each, whose data Pulumi
// ignores after creation; the workloads get the generated values.
func TestUnsetSecretsAreGenerated(t *testing.T) {
	g, err := harness.Run(stacks.Program, "local", harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	generated := map[string]*harness.Resource{}
	for _, s := range g.OfType(typeSecret) {
		if p := g.ParentOf(s); p != nil && p.Type == "wso2apim:secrets:Generated" {
			generated[s.String("metadata.name")] = s
		}
	}
	require.Len(t, generated, 5)
	// Kubernetes names are lower case: apimAdminPassword is kept in generated-apim-admin-password.
	names := map[string]string{"apimAdminPassword": "apim-admin-password", "apimEncryptionKey": "apim-encryption-key",
		"mysqlRootPassword": "mysql-root-password", "mysqlPassword": "mysql-password", "analyticsAdminPassword": "analytics-admin-password"}
	for key, name := range names {
		s := generated["generated-"+name]
		require.NotNil(t, s, key)
		assert.Equal(t, []string{"data"}, s.IgnoreChanges, "%s: later runs keep the first value", key)
		assert.True(t, s.IsSecret("data.value"), key)
		assert.False(t, s.Protect, "%s: local's MySQL is unprotected, and so are the values it depends on", key)
	}
	value := func(key string) string {
		b, err := hexOrBase64(generated["generated-"+names[key]].String("data.value"))
		require.NoError(t, err)
		return b
	}
	assert.Regexp(t, `^[0-9a-f]{64}$`, value("apimEncryptionKey"))
	for _, key := range []string{"apimAdminPassword", "mysqlRootPassword", "mysqlPassword", "analyticsAdminPassword"} {
		v := value(key)
		assert.Len(t, v, 24, key)
		assert.Empty(t, platform.ValidateSecretValues(map[string]string{key: v}), "%s must pass the rules a user's value must pass", key)
	}
	creds := g.Find(typeSecret, "apim-cp-credentials")
	assert.Equal(t, value("apimAdminPassword"), creds.Get("stringData.admin-password"), "the control plane gets the generated password")
	assert.Equal(t, value("apimEncryptionKey"), creds.Get("stringData.encryption-key"))
	assert.Equal(t, value("mysqlPassword"), g.Find(typeSecret, "apim-mysql-credentials").Get("stringData.password"))

	// On a later `up` the Secrets exist: the workloads get the values stored then, not this
	// run's candidates (the harness's State answers for the stored Secrets as the engine does).
	kept := map[string]string{"apimAdminPassword": "Kept-Admin-Password-1", "apimEncryptionKey": strings.Repeat("5a", 32),
		"mysqlPassword": "Kept-Db-Password-12", "mysqlRootPassword": "Kept-Root-Password-12", "analyticsAdminPassword": "Kept-Analytics-Pw-1"}
	state := map[string]map[string]any{}
	for key, v := range kept {
		state[typeSecret+"::apim-secrets-"+names[key]] = map[string]any{"data": map[string]any{"value": base64.StdEncoding.EncodeToString([]byte(v))}}
	}
	g, err = harness.Run(stacks.Program, "local", harness.Options{Secrets: map[string]string{}, Up: true, State: state})
	require.NoError(t, err)
	creds = g.Find(typeSecret, "apim-cp-credentials")
	assert.Equal(t, kept["apimAdminPassword"], creds.Get("stringData.admin-password"))
	assert.Equal(t, kept["apimEncryptionKey"], creds.Get("stringData.encryption-key"))
	assert.Equal(t, kept["mysqlPassword"], g.Find(typeSecret, "apim-mysql-credentials").Get("stringData.password"))

	// A user's value wins, and nothing is generated for it.
	mine := "my-own-admin-password-1"
	g, err = harness.Run(stacks.Program, "local", harness.Options{Secrets: map[string]string{"apimAdminPassword": mine}})
	require.NoError(t, err)
	assert.Equal(t, mine, g.Find(typeSecret, "apim-cp-credentials").Get("stringData.admin-password"))
	for _, s := range g.OfType(typeSecret) {
		assert.NotEqual(t, "generated-apim-admin-password", s.String("metadata.name"))
	}

	// In prod they are protected like the database whose data the key encrypts.
	g, err = harness.Run(stacks.Program, "prod", harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	for _, s := range g.OfType(typeSecret) {
		if strings.HasPrefix(s.String("metadata.name"), "generated-") {
			assert.True(t, s.Protect, s.Name)
		}
	}
}

func hexOrBase64(s string) (string, error) {
	if b, err := base64Decode(s); err == nil {
		return string(b), nil
	}
	b, err := hex.DecodeString(s)
	return string(b), err
}

// A decode error in one key does not hide problems in others, nor a second bad setting of
// the same key.
func TestDecodeErrorsAreReportedWithEveryOtherProblem(t *testing.T) {
	_, err := harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{
		"nodePool.maxNodes": "three", "nodePool.spot": "yes", "nodePool.typo": 1,
		"cluster.releaseChannel": "beta", "apim.heapMb": 100, "gateway.minReplicas": []any{1},
		"cluster.masterAuthorizedNetworks": []any{map[string]any{"name": "ops", "cidr": 7}},
	}})
	var cfgErr *stacks.ConfigError
	require.True(t, errors.As(err, &cfgErr), "%v", err)
	assert.ElementsMatch(t, []string{
		"nodePool.maxNodes: got a string, want an integer",
		"nodePool.spot: got a string, want true or false",
		`nodePool: unknown setting "typo"; see Pulumi.yaml or docs/configuration.md for the valid keys`,
		"gateway.minReplicas: got an array, want an integer",
		"cluster.masterAuthorizedNetworks[0].cidr: got a number, want a string",
		`cluster.releaseChannel: "beta" is not valid; use one of RAPID, REGULAR, STABLE, EXTENDED`,
		"apim.heapMb: 100 is not valid; want 512 or more (MiB)",
	}, cfgErr.Problems, "every setting that decoded is still validated; those that did not are not checked as if left out")
}

// A stack file that sets nothing but the project and region gets every default.
func TestDefaultsFromAnEmptyStack(t *testing.T) {
	g, err := harness.RunWithConfig(stacks.Program, "wso2-apim", "staging",
		map[string]any{"gcp:project": "apim-staging-1", "gcp:region": "us-central1"}, harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	cluster := one(t, g, typeCluster)
	assert.Equal(t, "apim-staging", cluster.Get("name"))
	assert.Equal(t, "us-central1", cluster.Get("location"), "regional by default")
	assert.Equal(t, true, cluster.Get("deletionProtection"))
	assert.Equal(t, "REGULAR", cluster.Get("releaseChannel.channel"))
	pool := one(t, g, typeNodePool)
	assert.Equal(t, "e2-standard-4", pool.Get("nodeConfig.machineType"))
	assert.Equal(t, 1.0, pool.Get("autoscaling.minNodeCount"))
	assert.Equal(t, 3.0, pool.Get("autoscaling.maxNodeCount"))
	assert.Equal(t, "wso2-apim", one(t, g, typeNamespace).Get("metadata.name"))
	vm := one(t, g, "gcp:compute/instance:Instance")
	assert.Equal(t, "us-central1-b", vm.Get("zone"), "the NFS VM in the region's b zone")
	hpa := one(t, g, typeHPA)
	assert.Equal(t, 1.0, hpa.Get("spec.minReplicas"))
	assert.Equal(t, 2.0, hpa.Get("spec.maxReplicas"))
	assert.Equal(t, 70.0, hpa.Get("spec.metrics.0.resource.target.averageUtilization"))
	assert.Len(t, g.OfType("wso2apim:analytics:Analytics"), 1, "OpenSearch analytics by default")
	ing := one(t, g, typeIngress)
	assert.Equal(t, "am.apim.example.com", ing.Get("spec.rules.0.host"))
	gw := g.Find(typeDeployment, "apim-gw")
	assert.Equal(t, "wso2/wso2am-universal-gw:4.7.0", gw.Get("spec.template.spec.containers.0.image"))
	assert.Len(t, g.OfType("wso2apim:secrets:Generated"), 1)
}

// With the ingress off nothing is published, the services carry no load balancer settings and
// the gateway advertises its WebSocket and WebSub listeners on their own ports.
func TestIngressDisabled(t *testing.T) {
	g := run(t, "dev", map[string]any{"ingress.enabled": false})
	assert.Empty(t, g.OfType(typeIngress))
	assert.Nil(t, g.Find("gcp:compute/globalAddress:GlobalAddress", "apim-ingress"), "no load balancer address")
	assert.Empty(t, g.WithPrefix("kubernetes:cloud.google.com"))
	for _, svc := range []string{"apim-cp", "apim-gw"} {
		assert.Nil(t, g.Find(typeService, svc).Get("metadata.annotations"), svc)
	}
	conf := deploymentTOMLs(t, g, "apim-cp-conf")[0]
	assert.Contains(t, conf, `wss_endpoint = "wss://gw.dev.apim.example.com:8099"`)
	assert.Contains(t, conf, `websub_event_receiver_https_endpoint = "https://gw.dev.apim.example.com:8021"`)
	assert.NotNil(t, g.Find("kubernetes:batch/v1:Job", "apim-publish-hello"), "the publisher still runs: it talks to the control plane in the cluster")
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
