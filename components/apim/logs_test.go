package apim_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/fidelity"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func volumesOf(dep *harness.Resource) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, v := range dep.Get("spec.template.spec.volumes").([]any) {
		out[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	return out
}

// Every API Manager pod, with or without a logs volume, runs with the project's
// log4j2.properties of its distribution, copied from the config volume by the entrypoint, and
// a change to it rolls the pods.
func TestLog4j2OnEveryPod(t *testing.T) {
	gcp, cp := runControlPlane(t, aloneControlPlane())
	ggw, gw := runGateway(t, aloneGateway())
	for _, c := range []struct {
		g         *harness.Graph
		rname     string
		toml      string
		component string
		dist      string
	}{
		{gcp, "cp", cp.TOMLs[0], apim.ComponentControlPlane, `distribution "all-in-one"`},
		{ggw, "gw", gw.TOML, apim.ComponentGateway, `distribution "universal-gw"`},
	} {
		l4j := apim.Log4j2Properties(c.component)
		assert.Contains(t, strings.SplitN(l4j, "\n", 2)[0], c.dist, c.rname)
		assert.Equal(t, l4j, c.g.Find(harness.TypeConfigMap, c.rname+"-conf").Get("data[log4j2.properties]"), c.rname)
		dep := c.g.Find(harness.TypeDeployment, c.rname)
		if dep == nil {
			dep = c.g.Find(harness.TypeStatefulSet, c.rname) // the control plane's nodes
		}
		require.NotNil(t, dep, c.rname)
		mounts, _ := dep.Get("spec.template.spec.containers.0.volumeMounts").([]any)
		assert.Contains(t, mounts, map[string]any{"name": "conf", "subPath": "log4j2.properties",
			"mountPath": "/home/wso2carbon/wso2-config-volume/repository/conf/log4j2.properties"}, c.rname)
		sum := dep.Get("spec.template.metadata.annotations[checksum/config]")
		assert.Equal(t, kube.Checksum(c.toml, l4j), sum, c.rname)
		assert.NotEqual(t, kube.Checksum(c.toml), sum, "%s: the checksum covers log4j2.properties", c.rname)
	}
	assert.NotEqual(t, apim.Log4j2Properties(apim.ComponentControlPlane), apim.Log4j2Properties(apim.ComponentGateway))
}

// The heap dump has a volume of its own, sized from the heap, and JAVA_OPTS (which WSO2's start
// scripts put after their own -XX:HeapDumpPath) points there.
func TestHeapDumpVolume(t *testing.T) {
	for _, c := range []struct {
		heap  int
		limit string
	}{{0, "4352Mi"}, {1024, "2304Mi"}} {
		a := aloneGateway()
		a.HeapMB = c.heap
		g, _ := runGateway(t, a)
		dep := g.Find(harness.TypeDeployment, "gw")
		e := harness.Env(t, dep, "spec.template.spec.containers.0")
		assert.Equal(t, "-XX:HeapDumpPath=/home/wso2carbon/wso2am-universal-gw-4.7.0/heap-dump/heap-dump.hprof "+
			"-Djdk.tls.ephemeralDHKeySize=2048 -Djdk.tls.rejectClientInitiatedRenegotiation=true", e["JAVA_OPTS"])
		mounts, _ := dep.Get("spec.template.spec.containers.0.volumeMounts").([]any)
		assert.Contains(t, mounts, map[string]any{"name": "heap-dump", "mountPath": "/home/wso2carbon/wso2am-universal-gw-4.7.0/heap-dump"})
		assert.Equal(t, map[string]any{"sizeLimit": c.limit}, volumesOf(dep)["heap-dump"]["emptyDir"], "twice the heap plus 256Mi")
	}
}

// The logs emptyDir holds what the generated log4j2.properties keep, with a quarter to spare
// (a file and its .gz during compression; a rotated apim_metrics.log the shipper still holds).
func TestLogsSizeLimitHoldsTheLog4j2Bound(t *testing.T) {
	a := aloneGateway()
	a.LogsVolume = "apim-logs"
	g, _ := runGateway(t, a)
	assert.Equal(t, map[string]any{"sizeLimit": apim.LogsSizeLimit}, volumesOf(g.Find(harness.TypeDeployment, "gw"))["apim-logs"]["emptyDir"])
	limit, err := fidelity.ParseQuantity(apim.LogsSizeLimit)
	require.NoError(t, err)
	for _, component := range []string{apim.ComponentControlPlane, apim.ComponentGateway} {
		apps, err := fidelity.ParseLog4j2(apim.Log4j2Properties(component))
		require.NoError(t, err)
		need := fidelity.NeedForLogs(component, apps, apim.LogsDir, false, "", 0)
		require.Empty(t, need.Unbounded, component)
		require.Greater(t, len(need.Bounded), 10, component)
		assert.LessOrEqual(t, need.Bytes*5/4, limit, "%s: %s plus a quarter", component, fidelity.Human(need.Bytes))
	}
}

// The container's ephemeral-storage limit must hold a heap dump and the logs: the kubelet
// evicts a pod whose containers and emptyDirs use more than its limits.
func TestWorkloadValidateDisk(t *testing.T) {
	cases := []harness.Validation[apim.Workload]{
		{"defaults", apim.Workload{}, ""},
		{"largest heap of the default memory", apim.Workload{HeapMB: 2304}, ""},
		{"the old 4Gi limit", apim.Workload{Resources: kube.Resources{Limits: kube.Compute{EphemeralStorage: "4Gi"}}},
			"apim.resources.limits.ephemeralStorage: 4Gi does not hold a heap dump (4352Mi for heapMb 2048: twice the heap, plus 256Mi) and the logs (2Gi); want at least 6400Mi"},
		{"a bigger heap needs a bigger limit", apim.Workload{HeapMB: 4096, Resources: kube.Resources{Limits: kube.Compute{Memory: "8Gi"}}},
			"apim.resources.limits.ephemeralStorage: 8Gi does not hold a heap dump (8448Mi for heapMb 4096: twice the heap, plus 256Mi) and the logs (2Gi); want at least 10496Mi"},
		{"and gets it", apim.Workload{HeapMB: 4096, Resources: kube.Resources{Limits: kube.Compute{Memory: "8Gi", EphemeralStorage: "10496Mi"}}}, ""},
	}
	harness.ExpectProblems(t, validateWorkload, cases)
}
