//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The monitoring CRDs a plain cluster lacks, as their projects publish them
// (tests/testdata/crds, each file naming its release): GKE's PodMonitoring, the Prometheus
// Operator's PodMonitor, the vertical Pod autoscaler's.
var monitoringCRDs = []string{
	"monitoring.googleapis.com_podmonitorings.yaml",
	"monitoring.coreos.com_podmonitors.yaml",
	"autoscaling.k8s.io_verticalpodautoscalers.yaml",
}

// installMonitoringCRDs creates every CRD of the test data files and waits until the API
// server serves them.
func installMonitoringCRDs(t *testing.T, k *kubeclient.Client, root string) {
	t.Helper()
	var names []string
	for _, f := range monitoringCRDs {
		b, err := os.ReadFile(filepath.Join(root, "tests", "testdata", "crds", f))
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var crd map[string]any
			if err := dec.Decode(&crd); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err, f)
			}
			if crd == nil {
				continue
			}
			require.Equal(t, "CustomResourceDefinition", crd["kind"], f)
			name := fmt.Sprint(kubeclient.Object(crd).Path("metadata", "name"))
			found, err := k.Get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &kubeclient.Object{})
			require.NoError(t, err)
			if !found {
				require.NoError(t, k.Create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd), name)
			}
			names = append(names, name)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, name := range names {
		for {
			var crd kubeclient.Object
			_, err := k.Get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &crd)
			require.NoError(t, err)
			established := false
			conds, _ := crd.Path("status", "conditions").([]any)
			for _, c := range conds {
				if m := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
					established = true
				}
			}
			if established {
				break
			}
			require.True(t, time.Now().Before(deadline), "CRD %s not established", name)
			time.Sleep(200 * time.Millisecond)
		}
	}
	fmt.Printf("monitoring CRDs installed: %s\n", strings.Join(names, ", "))
}

// dryRunCreate posts an object to the API server as a server-side dry run with strict field
// validation: the server runs its schema validation (and rejects fields the schema does not
// know) without storing anything.
func dryRunCreate(k *kubeclient.Client, path string, obj map[string]any) error {
	for i := 0; ; i++ {
		err := k.Post(path+"?dryRun=All&fieldValidation=Strict", obj, http.StatusCreated, http.StatusOK)
		if err == nil || !strings.Contains(err.Error(), "429 Too Many Requests") || i == 60 {
			return err
		}
		time.Sleep(time.Second)
	}
}

// plural is the resource name of the monitoring kinds.
var plural = map[string]string{"PodMonitoring": "podmonitorings", "PodMonitor": "podmonitors", "VerticalPodAutoscaler": "verticalpodautoscalers"}

// assertGKEObjectsAccepted renders the dev and prod stacks as `pulumi up` would (under mocks:
// they need Google Cloud) and has the API server validate each of their PodMonitorings and
// VerticalPodAutoscalers against the installed CRDs, in the default namespace.
func assertGKEObjectsAccepted(t *testing.T, k *kubeclient.Client) {
	t.Helper()
	n := 0
	for _, stack := range []string{"dev", "prod"} {
		g, err := harness.Run(stacks.Program, stack, harness.Options{})
		require.NoError(t, err)
		for _, r := range g.All() {
			if !strings.HasPrefix(r.Type, "kubernetes:monitoring.googleapis.com/") && !strings.HasPrefix(r.Type, "kubernetes:autoscaling.k8s.io/") {
				continue
			}
			obj := map[string]any{}
			for key, v := range r.Inputs {
				obj[key] = v
			}
			meta := obj["metadata"].(map[string]any)
			meta["namespace"] = "default"
			group := fmt.Sprint(obj["apiVersion"])
			path := fmt.Sprintf("/apis/%s/namespaces/default/%s", group, plural[fmt.Sprint(obj["kind"])])
			assert.NoError(t, dryRunCreate(k, path, obj), "%s: %s %s", stack, obj["kind"], meta["name"])
			n++
		}
	}
	assert.GreaterOrEqual(t, n, 8, "dev and prod: two PodMonitorings and three VPAs or more each")
	// The check can fail: a field the schema does not know is refused.
	bad := map[string]any{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		"metadata": map[string]any{"name": "bad"},
		"spec": map[string]any{"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"},
			"updatePolicy": map[string]any{"updateMode": "Off", "recommendOnly": true}}}
	assert.Error(t, dryRunCreate(k, "/apis/autoscaling.k8s.io/v1/namespaces/default/verticalpodautoscalers", bad))
}

// assertLocalMonitoringObjects checks what the local stack created once opted in: a PodMonitor
// for each API Manager workload on the agent's port, and VPAs in recommendation mode.
func assertLocalMonitoringObjects(t *testing.T, k *kubeclient.Client) {
	t.Helper()
	var mons kubeclient.List
	_, err := getSettled(k, "/apis/monitoring.coreos.com/v1/namespaces/"+ns+"/podmonitors", &mons)
	require.NoError(t, err)
	got := map[string]kubeclient.Object{}
	for _, m := range mons.Items {
		got[fmt.Sprint(m.Path("metadata", "name"))] = m
	}
	for _, name := range []string{"apim-cp", "apim-gw"} {
		m, ok := got[name]
		require.True(t, ok, "PodMonitor %s", name)
		eps := m.Path("spec", "podMetricsEndpoints").([]any)
		assert.Equal(t, "metrics", eps[0].(map[string]any)["port"], name)
	}
	var vpas kubeclient.List
	_, err = getSettled(k, "/apis/autoscaling.k8s.io/v1/namespaces/"+ns+"/verticalpodautoscalers", &vpas)
	require.NoError(t, err)
	var targets []string
	for _, v := range vpas.Items {
		assert.Equal(t, "Off", v.Path("spec", "updatePolicy", "updateMode"))
		targets = append(targets, fmt.Sprint(v.Path("spec", "targetRef", "name")))
	}
	assert.ElementsMatch(t, []string{"apim-cp", "mysql", "opensearch", "hello"}, targets)
	// The pods now run the agent, and its port is open to Prometheus' pods only.
	w := statefulSet(t, k, "apim-cp")
	var inits []string
	for _, c := range w.Path("spec", "template", "spec", "initContainers").([]any) {
		inits = append(inits, fmt.Sprint(c.(map[string]any)["name"]))
	}
	assert.Contains(t, inits, "jmx-exporter")
	var np kubeclient.Object
	_, err = k.Get("/apis/networking.k8s.io/v1/namespaces/"+ns+"/networkpolicies/apim-gw", &np)
	require.NoError(t, err)
	rules, _ := json.Marshal(np.Path("spec", "ingress"))
	assert.Contains(t, string(rules), `{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}},"podSelector":{"matchLabels":{"app.kubernetes.io/name":"prometheus"}}}],"ports":[{"port":1234,"protocol":"TCP"}]}`)
}

// getSettled is kube.get that waits out the API server's 429 "storage is (re)initializing",
// which it answers for a while about the resources of a CRD just installed.
func getSettled(k *kubeclient.Client, path string, out any) (bool, error) {
	for i := 0; ; i++ {
		found, err := k.Get(path, out)
		if err == nil || !strings.Contains(err.Error(), "429 Too Many Requests") || i == 60 {
			return found, err
		}
		time.Sleep(time.Second)
	}
}

// assertNoMonitoringObjects: with the CRDs installed but nothing asked for, the local stack
// made no object of them.
func assertNoMonitoringObjects(t *testing.T, k *kubeclient.Client) {
	t.Helper()
	for _, path := range []string{"/apis/monitoring.coreos.com/v1/namespaces/" + ns + "/podmonitors",
		"/apis/monitoring.googleapis.com/v1/namespaces/" + ns + "/podmonitorings",
		"/apis/autoscaling.k8s.io/v1/namespaces/" + ns + "/verticalpodautoscalers"} {
		var l kubeclient.List
		_, err := getSettled(k, path, &l)
		require.NoError(t, err)
		assert.Empty(t, l.Items, path)
	}
}
