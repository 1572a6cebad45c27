//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
	"github.com/wso2-k8s/apim-gke/tests/e2e/localstack"
	"github.com/wso2-k8s/apim-gke/tests/harness"
	"github.com/wso2-k8s/apim-gke/tests/policy"
)

const ns = "wso2-apim"

// step runs one numbered step and prints its time, so performance can be followed run to run;
// with E2E_TIMINGS set (run.sh sets it) it also appends the time as one JSON line,
// {"suite","step","seconds","ok","test"}, the suite being E2E_SUITE (default e2e).
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	start := time.Now()
	ok := t.Run(name, f)
	seconds := time.Since(start).Seconds()
	fmt.Printf("E2E STEP %-40s %8.1fs %s\n", name, seconds, map[bool]string{true: "ok", false: "FAILED"}[ok])
	if path := os.Getenv("E2E_TIMINGS"); path != "" {
		suite := os.Getenv("E2E_SUITE")
		if suite == "" {
			suite = "e2e"
		}
		line, err := json.Marshal(map[string]any{"suite": suite, "step": name, "seconds": math.Round(seconds*1000) / 1000, "ok": ok, "test": t.Name()})
		require.NoError(t, err)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err, "E2E_TIMINGS")
		_, err = f.Write(append(line, '\n'))
		require.NoError(t, errors.Join(err, f.Close()), "E2E_TIMINGS")
	}
	if !ok {
		t.FailNow()
	}
}

// TestLocalStackLifecycle is the suite: up with no secret set (all generated), no-op preview,
// rolling update, a user-set secret, config roll, destroy, and bad config, in that order, on
// one stack.
func TestLocalStackLifecycle(t *testing.T) {
	ctx := context.Background()
	kubeconfig := os.Getenv("KUBECONFIG")
	require.NotEmpty(t, kubeconfig, "KUBECONFIG must point at the suite's API server (make e2e sets it)")
	k, err := kubeclient.New(kubeconfig)
	require.NoError(t, err)

	root, err := harness.RepoRoot()
	require.NoError(t, err)
	stack := newStack(t, ctx, root)

	step(t, "0-monitoring-crds-accept-gke-objects", func(t *testing.T) {
		installMonitoringCRDs(t, k, root)
		assertGKEObjectsAccepted(t, k)
	})

	var generatedAdmin, generatedCA string
	step(t, "1-up-from-empty", func(t *testing.T) {
		res, err := stack.Up(ctx, optup.SuppressProgress())
		require.NoError(t, err)
		fmt.Printf("up: %v\n", res.Summary.ResourceChanges)
		assertObjects(t, k)
		assertNoMonitoringObjects(t, k)
		// No secret was set: each was generated, and is readable as a secret output.
		admin := res.Outputs["adminPassword"]
		assert.True(t, admin.Secret, "adminPassword is a secret output")
		generatedAdmin, _ = admin.Value.(string)
		assert.Len(t, generatedAdmin, 24)
		generated, _ := res.Outputs["generatedSecrets"].Value.(map[string]any)
		assert.True(t, res.Outputs["generatedSecrets"].Secret)
		for _, key := range []string{"apimAdminPassword", "apimEncryptionKey", "mysqlRootPassword", "mysqlPassword", "analyticsAdminPassword"} {
			assert.NotEmpty(t, generated[key], key)
		}
		assert.Equal(t, generatedAdmin, generated["apimAdminPassword"])
		assert.Equal(t, generatedAdmin, secretValue(t, k, "apim-cp-credentials", "admin-password"), "the control plane reads the generated password")
		// The deployment's own keys, made by the real engine, mounted by both workloads.
		name, files := keystoreSecret(t, k)
		generatedCA = files[keystores.KeyTrustedCerts]
		for _, store := range keystores.Stores {
			_, _, _, err := pkcs12.DecodeChain([]byte(files[store]), files[keystores.KeyPassword])
			assert.NoError(t, err, "%s opens with the stored password", store)
		}
		for _, d := range []string{"apim-cp", "apim-gw"} {
			assert.Equal(t, name, keystoreVolume(t, k, d), "%s mounts the keystore Secret", d)
		}
	})

	step(t, "2-preview-is-clean-and-passes-the-policy-pack", func(t *testing.T) {
		ch, report := policyEvents()
		res, err := stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Diff(),
			optpreview.PolicyPacks(policyPack(t, root)), optpreview.EventStreams(ch))
		r := report()
		r.print()
		require.NoError(t, err, "a preview right after up must show no changes and break no mandatory rule")
		for op, n := range res.ChangeSummary {
			if op != "same" {
				assert.Zero(t, n, "preview wants to %s %d resource(s)", op, n)
			}
		}
		// Every value is known after up: the pack judges everything, and nothing fails.
		assert.Len(t, r.passed, len(rules.Rules)+1, "every rule and cannot-judge ran and passed")
		assert.Empty(t, r.failed)
		assert.Empty(t, r.findings, "the shipped stack, judged on the real engine's resources")
	})

	step(t, "2b-policy-pack-refuses-the-local-config-as-prod", func(t *testing.T) {
		// The deployed local stack renamed prod-e2e: its config and resources are unchanged
		// (the cluster's name is set, not derived from the stack's), so the preview is a no-op
		// with every value known, but the pack now holds it to the production rules, and
		// local's unprotected data (mysql.protect, nfs.protect, analytics.protect false)
		// breaks the mandatory protected-state. A fresh prod-* stack would not do: a first
		// preview on this cluster fails before any policy runs (the kubernetes provider's dry
		// run refuses the NFS PersistentVolume whose server, a ClusterIP, is not known yet).
		const prodName = "prod-e2e"
		renameStack(t, ctx, stack.Workspace(), stack.Name(), prodName)
		defer renameStack(t, ctx, stack.Workspace(), prodName, stack.Name())
		prod, err := auto.SelectStack(ctx, prodName, stack.Workspace())
		require.NoError(t, err)
		ch, report := policyEvents()
		_, err = prod.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.PolicyPacks(policyPack(t, root)), optpreview.EventStreams(ch))
		r := report()
		r.print()
		require.Error(t, err, "a mandatory violation fails the preview")
		assert.Equal(t, []string{"protected-state"}, r.failed)
		assert.Len(t, r.passed, len(rules.Rules), "every other rule and cannot-judge passed")
		// The mock runner, over the same program and config, finds exactly what the pack
		// found in the real engine's resources: one rule set, two runners.
		g, err := harness.Run(stacks.Program, "local", harness.Options{})
		require.NoError(t, err)
		var want []string
		for _, f := range policy.Check(g, policy.Env{Production: true}) {
			want = append(want, "mandatory "+f.String())
		}
		sort.Strings(want)
		assert.Contains(t, want, "mandatory protected-state: kubernetes:apps/v1:StatefulSet apim-mysql: holds data but is not protected")
		assert.Equal(t, want, r.findings)
	})

	step(t, "3-image-change-rolls-without-downtime", func(t *testing.T) {
		before := deployment(t, k, "apim-gw")
		require.NoError(t, stack.SetConfigWithOptions(ctx, "gateway.image",
			auto.ConfigValue{Value: "wso2/wso2am-universal-gw:4.7.1"}, &auto.ConfigOptions{Path: true}))
		trace := watchRollout(t, k, "apim-gw", func() {
			_, err := stack.Up(ctx, optup.SuppressProgress())
			require.NoError(t, err)
		})
		trace.print()
		trace.assertAlwaysAvailable(t)
		after := deployment(t, k, "apim-gw")
		assert.Equal(t, "wso2/wso2am-universal-gw:4.7.1", after.Path("spec", "template", "spec", "containers").([]any)[0].(map[string]any)["image"])
		assert.NotEqual(t, before.Path("metadata", "generation"), after.Path("metadata", "generation"))
	})

	step(t, "4-generated-secrets-are-kept-and-a-set-one-wins", func(t *testing.T) {
		// Steps 2 and 3 generated new candidates; the first values stay.
		outs, err := stack.Outputs(ctx)
		require.NoError(t, err)
		assert.Equal(t, generatedAdmin, outs["adminPassword"].Value, "a generated secret is never regenerated")
		_, files := keystoreSecret(t, k)
		assert.Equal(t, generatedCA, files[keystores.KeyTrustedCerts], "nor are the keys: tokens signed before stay valid")
		mine := "my-own-Admin-pw-12"
		require.NoError(t, stack.SetConfig(ctx, "apimAdminPassword", auto.ConfigValue{Value: mine, Secret: true}))
		res, err := stack.Up(ctx, optup.SuppressProgress())
		require.NoError(t, err)
		assert.Equal(t, mine, res.Outputs["adminPassword"].Value)
		assert.Equal(t, mine, secretValue(t, k, "apim-cp-credentials", "admin-password"), "the user's value wins")
		_, found := secretData(t, k, "generated-apim-admin-password")
		assert.False(t, found, "the generated one is no longer kept")
		_, found = secretData(t, k, "generated-apim-encryption-key")
		assert.True(t, found, "the others stay")
	})

	step(t, "5-config-change-rolls-pods", func(t *testing.T) {
		before, cpBefore := deployment(t, k, "apim-gw"), statefulSet(t, k, "apim-cp")
		sum := func(o kubeclient.Object) any {
			return o.Path("spec", "template", "metadata", "annotations", "checksum/config")
		}
		require.NoError(t, stack.SetConfigWithOptions(ctx, "apim.domain",
			auto.ConfigValue{Value: "changed.localtest.me"}, &auto.ConfigOptions{Path: true}))
		trace := watchRollout(t, k, "apim-gw", func() {
			_, err := stack.Up(ctx, optup.SuppressProgress())
			require.NoError(t, err)
		})
		trace.print()
		trace.assertAlwaysAvailable(t)
		after, cpAfter := deployment(t, k, "apim-gw"), statefulSet(t, k, "apim-cp")
		assert.NotEqual(t, sum(before), sum(after), "the checksum annotation must change with deployment.toml")
		assert.Greater(t, trace.ReplicaSets(), 1, "a new ReplicaSet rolled out")
		// The control plane's nodes rolled too: a new revision, fully updated and ready.
		assert.NotEqual(t, sum(cpBefore), sum(cpAfter), "the control plane's checksum changes with its nodes' files")
		assert.NotEqual(t, cpBefore.Path("status", "updateRevision"), cpAfter.Path("status", "updateRevision"))
		assert.Equal(t, cpAfter.Path("status", "updateRevision"), cpAfter.Path("status", "currentRevision"), "every node runs the new revision")
		assert.EqualValues(t, 1, cpAfter.Path("status", "readyReplicas"))
		var cm kubeclient.Object
		_, err := k.Get("/api/v1/namespaces/"+ns+"/configmaps/apim-cp-conf", &cm)
		require.NoError(t, err)
		assert.Contains(t, fmt.Sprint(cm.Path("data", "deployment-0.toml")), "am.changed.localtest.me")
	})

	step(t, "5b-keystores-from-a-users-secret", func(t *testing.T) {
		files, err := keystores.Generate("corp-pki", []string{"localhost", "apim-cp", "apim-gw"}, time.Now(), 24*time.Hour)
		require.NoError(t, err)
		data := map[string]string{}
		for key, b := range files {
			data[key] = base64.StdEncoding.EncodeToString(b)
		}
		require.NoError(t, k.Create("/api/v1/namespaces/"+ns+"/secrets", map[string]any{
			"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "corp-pki"}, "data": data}))
		generated, _ := keystoreSecret(t, k)
		require.NoError(t, stack.SetConfigWithOptions(ctx, "apim.keystores.secretName",
			auto.ConfigValue{Value: "corp-pki"}, &auto.ConfigOptions{Path: true}))
		trace := watchRollout(t, k, "apim-gw", func() {
			_, err := stack.Up(ctx, optup.SuppressProgress())
			require.NoError(t, err)
		})
		trace.assertAlwaysAvailable(t)
		for _, d := range []string{"apim-cp", "apim-gw"} {
			assert.Equal(t, "corp-pki", keystoreVolume(t, k, d), "%s mounts the user's Secret", d)
		}
		_, found := secretData(t, k, generated)
		assert.False(t, found, "the generated keys are gone (local does not protect them)")
		_, err = stack.Preview(ctx, optpreview.ExpectNoChanges())
		require.NoError(t, err, "and the next preview is clean")
	})

	step(t, "5c-monitoring-when-opted-in", func(t *testing.T) {
		for key, value := range map[string]string{"monitoring.prometheusOperator.enabled": "true", "monitoring.verticalPodAutoscalers": "true"} {
			require.NoError(t, stack.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true}))
		}
		trace := watchRollout(t, k, "apim-gw", func() {
			_, err := stack.Up(ctx, optup.SuppressProgress())
			require.NoError(t, err)
		})
		trace.assertAlwaysAvailable(t)
		assertLocalMonitoringObjects(t, k)
		_, err := stack.Preview(ctx, optpreview.ExpectNoChanges())
		require.NoError(t, err, "and the next preview is clean")
	})

	step(t, "6-destroy-leaves-nothing", func(t *testing.T) {
		_, err := stack.Destroy(ctx, optdestroy.SuppressProgress(), optdestroy.ProgressStreams(os.Stdout))
		require.NoError(t, err)
		assertNothingLeft(t, k)
	})

	step(t, "7-bad-config-creates-nothing", func(t *testing.T) {
		require.NoError(t, stack.SetConfigWithOptions(ctx, "gateway.minReplicas",
			auto.ConfigValue{Value: "5"}, &auto.ConfigOptions{Path: true}))
		_, err := stack.Up(ctx, optup.SuppressProgress())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "gateway.maxReplicas: 2 is not greater than gateway.minReplicas (5)")
		dep, err := stack.Export(ctx)
		require.NoError(t, err)
		assert.NotContains(t, string(dep.Deployment), "kubernetes:", "no resource may be created")
		assertNothingLeft(t, k)
	})

}

// renameStack renames a stack with the CLI, state and config file together. auto's
// Stack.Rename renames too, but then reads the history under the old name and fails.
func renameStack(t *testing.T, ctx context.Context, ws auto.Workspace, from, to string) {
	t.Helper()
	var env []string
	for k, v := range ws.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	_, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env, "stack", "rename", to, "--stack", from)
	require.NoError(t, err, "rename %s to %s: %s", from, to, stderr)
}

// newStack opens the local stack in a temporary workspace with no secret set (the platform
// generates them), and destroys whatever it holds when the test ends, however it ends.
func newStack(t *testing.T, ctx context.Context, root string) auto.Stack {
	stack, err := localstack.Open(ctx, root, t.TempDir(), "e2e-only-passphrase", nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := stack.Destroy(context.Background(), optdestroy.SuppressProgress()); err != nil {
			t.Logf("cleanup destroy: %v", err)
		}
	})
	return stack
}

func statefulSet(t *testing.T, k *kubeclient.Client, name string) kubeclient.Object {
	return workload(t, k, "statefulsets", name)
}

func deployment(t *testing.T, k *kubeclient.Client, name string) kubeclient.Object {
	return workload(t, k, "deployments", name)
}

// workload reads an apps/v1 object of the suite's namespace (kind: its plural resource name).
func workload(t *testing.T, k *kubeclient.Client, kind, name string) kubeclient.Object {
	return workloadIn(t, k, ns, kind, name)
}

func workloadIn(t *testing.T, k *kubeclient.Client, namespace, kind, name string) kubeclient.Object {
	t.Helper()
	var o kubeclient.Object
	found, err := k.Get("/apis/apps/v1/namespaces/"+namespace+"/"+kind+"/"+name, &o)
	require.NoError(t, err)
	require.True(t, found, "%s %s/%s", kind, namespace, name)
	return o
}

// assertObjects checks that the API server holds what the mock tests claim.
func assertObjects(t *testing.T, k *kubeclient.Client) { assertObjectsIn(t, k, ns) }

// assertObjectsIn is assertObjects for a Platform whose workloads are in namespace.
func assertObjectsIn(t *testing.T, k *kubeclient.Client, namespace string) {
	t.Helper()
	expect := map[string][]string{
		"/api/v1/namespaces": {namespace, namespace + "-nfs"},
		"/apis/apps/v1/namespaces/" + namespace + "/statefulsets":                    {"mysql", "apim-cp"},
		"/apis/apps/v1/namespaces/" + namespace + "/deployments":                     {"apim-gw", "hello"},
		"/apis/apps/v1/namespaces/" + namespace + "-nfs/deployments":                 {"apim-nfs-server"},
		"/api/v1/namespaces/" + namespace + "/services":                              {"apim-cp", "apim-cp-nodes", "apim-gw", "hello", "mysql"},
		"/apis/autoscaling/v2/namespaces/" + namespace + "/horizontalpodautoscalers": {"apim-gw"},
		"/apis/policy/v1/namespaces/" + namespace + "/poddisruptionbudgets":          {"apim-cp", "apim-gw", "hello"},
		"/apis/networking.k8s.io/v1/namespaces/" + namespace + "/networkpolicies": {"default-deny", "allow-dns",
			"apim-cp", "apim-gw", "mysql", "mysql-backup", "hello", "apim-publish-hello"},
		"/apis/batch/v1/namespaces/" + namespace + "/cronjobs":                        {"mysql-backup"},
		"/apis/networking.k8s.io/v1/namespaces/" + namespace + "-nfs/networkpolicies": {"default-deny", "allow-dns", "apim-nfs-server"},
		"/api/v1/namespaces/" + namespace + "/configmaps":                             {"apim-cp-conf", "apim-gw-conf", "mysql-initdb"},
		"/api/v1/namespaces/" + namespace + "/secrets": {"apim-cp-credentials", "mysql-credentials",
			"generated-apim-admin-password", "generated-apim-encryption-key", "generated-mysql-password"},
		"/api/v1/namespaces/" + namespace + "/persistentvolumeclaims":       {"apim-shared", "mysql-backup"},
		"/api/v1/persistentvolumes":                                         {"apim-shared-" + namespace},
		"/apis/networking.k8s.io/v1/namespaces/" + namespace + "/ingresses": {"apim-ingress-am", "apim-ingress-gw", "apim-ingress-ws"},
	}
	for path, names := range expect {
		var l kubeclient.List
		_, err := k.Get(path, &l)
		require.NoError(t, err, path)
		var got []string
		for _, o := range l.Items {
			got = append(got, fmt.Sprint(o.Path("metadata", "name")))
		}
		for _, n := range names {
			assert.Contains(t, got, n, path)
		}
	}

	// Every API Manager pod waits for its database before the server starts.
	for name, w := range map[string]kubeclient.Object{"apim-cp": workloadIn(t, k, namespace, "statefulsets", "apim-cp"), "apim-gw": workloadIn(t, k, namespace, "deployments", "apim-gw")} {
		var inits []string
		list, _ := w.Path("spec", "template", "spec", "initContainers").([]any)
		for _, c := range list {
			inits = append(inits, fmt.Sprint(c.(map[string]any)["name"]))
		}
		want := []string{"jdbc-driver", "keystores", "wait-for-database"}
		if name == "apim-cp" {
			want = append([]string{"node-config"}, want...)
		}
		assert.Equal(t, want, inits, name)
	}
	var backup kubeclient.Object
	found, err := k.Get("/apis/batch/v1/namespaces/"+namespace+"/cronjobs/mysql-backup", &backup)
	require.NoError(t, err)
	require.True(t, found, "the in-cluster MySQL's backup CronJob")
	assert.Equal(t, "0 */6 * * *", backup.Path("spec", "schedule"))
	assert.Equal(t, "Forbid", backup.Path("spec", "concurrencyPolicy"))

	gw := workloadIn(t, k, namespace, "deployments", "apim-gw")
	assert.Equal(t, "RollingUpdate", gw.Path("spec", "strategy", "type"))
	assert.EqualValues(t, 0, gw.Path("spec", "strategy", "rollingUpdate", "maxUnavailable"))
	assert.EqualValues(t, 1, gw.Path("status", "availableReplicas"), "the simulated node made the gateway available")
	var hpa kubeclient.Object
	_, err = k.Get("/apis/autoscaling/v2/namespaces/"+namespace+"/horizontalpodautoscalers/apim-gw", &hpa)
	require.NoError(t, err)
	assert.EqualValues(t, 2, hpa.Path("spec", "maxReplicas"))
	var pvc kubeclient.Object
	_, err = k.Get("/api/v1/namespaces/"+namespace+"/persistentvolumeclaims/apim-shared", &pvc)
	require.NoError(t, err)
	assert.Equal(t, "Bound", pvc.Path("status", "phase"), "the shared claim bound to the nfs volume")
	assertClaimsProvisioned(t, k, namespace)
	var jobs kubeclient.List
	_, err = k.Get("/apis/batch/v1/namespaces/"+namespace+"/jobs?labelSelector=app.kubernetes.io/component%3Dapi-publisher", &jobs)
	require.NoError(t, err)
	require.Len(t, jobs.Items, 1, "the sample API publisher Job")
	assert.EqualValues(t, 1, jobs.Items[0].Path("status", "succeeded"))
	var secret kubeclient.Object
	_, err = k.Get("/api/v1/namespaces/"+namespace+"/secrets/mysql-credentials", &secret)
	require.NoError(t, err)
	assert.NotNil(t, secret.Path("data", "password"))
}

// assertClaimsProvisioned checks that every claim of a StorageClass is Bound to a volume that
// the controller manager's host-path provisioner made (up.sh's default class): the same
// dynamic provisioning a cloud's provisioner does, not volumes the fake node invents.
func assertClaimsProvisioned(t *testing.T, k *kubeclient.Client, namespace string) {
	t.Helper()
	var claims kubeclient.List
	_, err := k.Get("/api/v1/namespaces/"+namespace+"/persistentvolumeclaims", &claims)
	require.NoError(t, err)
	dynamic := 0
	for _, c := range claims.Items {
		name := fmt.Sprint(c.Path("metadata", "name"))
		if c.Path("spec", "storageClassName") == "" || c.Path("spec", "storageClassName") == nil {
			continue // bound to a volume the stack made itself (the shared NFS one)
		}
		dynamic++
		assert.Equal(t, "Bound", c.Path("status", "phase"), "claim %s", name)
		var pv kubeclient.Object
		found, err := k.Get("/api/v1/persistentvolumes/"+fmt.Sprint(c.Path("spec", "volumeName")), &pv)
		require.NoError(t, err)
		require.True(t, found, "the volume of claim %s", name)
		assert.Equal(t, "kubernetes.io/host-path", pv.Path("metadata", "annotations", "pv.kubernetes.io/provisioned-by"), "claim %s", name)
	}
	assert.Positive(t, dynamic, "no claim of a StorageClass: the in-cluster MySQL's data and backup volumes are")
}

// keystoreSecret finds the generated keystore Secret by its label and decodes it.
func keystoreSecret(t *testing.T, k *kubeclient.Client) (string, map[string]string) {
	t.Helper()
	var l kubeclient.List
	_, err := k.Get("/api/v1/namespaces/"+ns+"/secrets?labelSelector=app.kubernetes.io/component%3Dkeystores", &l)
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "one keystore Secret")
	name := fmt.Sprint(l.Items[0].Path("metadata", "name"))
	data, _ := secretData(t, k, name)
	return name, data
}

// keystoreVolume is the Secret a Deployment's pods mount their stores from.
func keystoreVolume(t *testing.T, k *kubeclient.Client, name string) string {
	t.Helper()
	var w kubeclient.Object
	found, err := k.Get("/apis/apps/v1/namespaces/"+ns+"/deployments/"+name, &w)
	require.NoError(t, err)
	if !found {
		w = statefulSet(t, k, name)
	}
	vols, _ := w.Path("spec", "template", "spec", "volumes").([]any)
	for _, v := range vols {
		if o := kubeclient.Object(v.(map[string]any)); o.Path("name") == "keystores" {
			return fmt.Sprint(o.Path("secret", "secretName"))
		}
	}
	return ""
}

// secretData reads one key-value map of a Secret in the suite's namespace (values decoded).
func secretData(t *testing.T, k *kubeclient.Client, name string) (map[string]string, bool) {
	t.Helper()
	var s kubeclient.Object
	found, err := k.Get("/api/v1/namespaces/"+ns+"/secrets/"+name, &s)
	require.NoError(t, err)
	out := map[string]string{}
	data, _ := s.Path("data").(map[string]any)
	for key, v := range data {
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(v))
		require.NoError(t, err)
		out[key] = string(b)
	}
	return out, found
}

func secretValue(t *testing.T, k *kubeclient.Client, name, key string) string {
	t.Helper()
	data, found := secretData(t, k, name)
	require.True(t, found, "secret %s", name)
	return data[key]
}

// assertNothingLeft checks that no object of this project remains.
func assertNothingLeft(t *testing.T, k *kubeclient.Client) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var nsList, pvs kubeclient.List
		_, err1 := k.Get("/api/v1/namespaces?labelSelector=app.kubernetes.io/part-of%3Dwso2-apim", &nsList)
		_, err2 := k.Get("/api/v1/persistentvolumes", &pvs)
		require.NoError(t, err1)
		require.NoError(t, err2)
		var left []string
		for _, o := range nsList.Items {
			left = append(left, "namespace/"+fmt.Sprint(o.Path("metadata", "name")))
		}
		for _, o := range pvs.Items {
			left = append(left, "pv/"+fmt.Sprint(o.Path("metadata", "name")))
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind after destroy: %s", strings.Join(left, ", "))
		}
		time.Sleep(time.Second)
	}
}

// rolloutTrace is what two watches saw of one Deployment and its ReplicaSets during an update:
// every event of each (kubeclient.TraceRollout), not samples.
type rolloutTrace struct{ *kubeclient.Rollout }

// watchRollout follows the Deployment and its ReplicaSets from before update starts until the
// watches have caught up with the API server after it returns.
func watchRollout(t *testing.T, k *kubeclient.Client, name string, update func()) rolloutTrace {
	t.Helper()
	r, err := kubeclient.TraceRollout(context.Background(), k.Clientset, ns, name, "app.kubernetes.io/name="+name)
	require.NoError(t, err)
	update()
	require.NoError(t, r.Stop(30*time.Second))
	return rolloutTrace{r}
}

func (tr rolloutTrace) print() { tr.Print(os.Stdout) }

// assertAlwaysAvailable: available replicas never dropped below the desired count, at any
// event of the Deployment or its ReplicaSets (every ResourceVersion the watches saw), so no
// ReplicaSet was scaled away before its successor was available.
func (tr rolloutTrace) assertAlwaysAvailable(t *testing.T) {
	t.Helper()
	steps := tr.Steps()
	require.NotEmpty(t, steps)
	for _, s := range steps {
		assert.GreaterOrEqual(t, s.Available, s.Desired, "%s at %.2fs, %s", tr.Name, s.At.Seconds(), s)
	}
}
