package tests

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// wso2amSpec returns a workload's pod spec, its API Manager container and volumes by name.
func wso2amSpec(t *testing.T, w *harness.Resource) (map[string]any, map[string]map[string]any) {
	t.Helper()
	var c map[string]any
	for _, cc := range asSlice(w.Get("spec.template.spec.containers")) {
		if cc.(map[string]any)["name"] == "wso2am" {
			c = cc.(map[string]any)
		}
	}
	require.NotNil(t, c, w.Name)
	volumes := map[string]map[string]any{}
	for _, v := range asSlice(w.Get("spec.template.spec.volumes")) {
		volumes[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	return c, volumes
}

// wso2LogFacts are WSO2 4.7.0's log facts of the distribution a workload runs.
func wso2LogFacts(t *testing.T, w *harness.Resource) *fidelity.LogFacts {
	t.Helper()
	c, _ := wso2amSpec(t, w)
	facts, ok := fidelity.ImageFacts(c["image"].(string))
	require.True(t, ok, "facts for %s", c["image"])
	lf, err := fidelity.LoadLogFacts(wso2Version, facts.Product)
	require.NoError(t, err)
	return lf
}

// heapDumpInLogs says whether the JVM's OutOfMemoryError heap dump lands in repository/logs,
// as the start script and the pod's JVM_MEM_OPTS and JAVA_OPTS set it.
func heapDumpInLogs(t *testing.T, w *harness.Resource) bool {
	t.Helper()
	lf := wso2LogFacts(t, w)
	in, _, _ := fidelity.JVMHeapDump(lf.HeapDumpPath, lf.DefaultXmxMB, wso2amEnv(w, "JVM_MEM_OPTS"), wso2amEnv(w, "JAVA_OPTS"), fidelityLogsDir)
	return in
}

// withEdit is a copy of a workload changed by edit (its pod spec and API Manager container).
func withEdit(w *harness.Resource, edit func(spec, c map[string]any)) *harness.Resource {
	r := *w
	r.Inputs = deepCopyMap(w.Inputs)
	spec := r.Get("spec.template.spec").(map[string]any)
	for _, c := range asSlice(spec["containers"]) {
		if c.(map[string]any)["name"] == "wso2am" {
			edit(spec, c.(map[string]any))
		}
	}
	return &r
}

func dropEnv(name string) func(spec, c map[string]any) {
	return func(_, c map[string]any) {
		var env []any
		for _, e := range asSlice(c["env"]) {
			if e.(map[string]any)["name"] != name {
				env = append(env, e)
			}
		}
		c["env"] = env
	}
}

// logsGateway is the dev stack's gateway with its logs emptyDir (analytics on OpenSearch).
func logsGateway(t *testing.T) (*harness.Resource, func(name, key string) (string, bool)) {
	t.Helper()
	g := run(t, "dev", map[string]any{"analytics.mode": "opensearch"})
	for _, w := range apimWorkloads(g) {
		if len(logsVolumeProblems(t, w, configMapData(g))) > 0 {
			return w, configMapData(g)
		}
	}
	t.Fatal("no workload with a logs emptyDir")
	return nil, nil
}

// The logs check fails on the product's own log4j2.properties as soon as one appender is
// unbounded again, or the heap dump goes back to repository/logs: it is not vacuous.
func TestFidelityLogsCheckFailsOnAnUnboundedAppender(t *testing.T) {
	gw, data := logsGateway(t)
	require.Equal(t, []string{""}, logsVolumeProblems(t, gw, data), "the product as it is")
	edited := func(edit func(string) string) func(name, key string) (string, bool) {
		return func(name, key string) (string, bool) {
			s, ok := data(name, key)
			if key == "log4j2.properties" {
				before := s
				s = edit(s)
				require.NotEqual(t, before, s, "the fixture changes the file")
			}
			return s, ok
		}
	}
	// WSO2's date-rolled pattern back on the metrics log: one set of files per day, never deleted.
	dated := edited(func(s string) string {
		return strings.Replace(s, "appender.APIM_METRICS_APPENDER.filePattern = ${sys:carbon.home}/repository/logs/apim_metrics-%i.log",
			"appender.APIM_METRICS_APPENDER.filePattern = ${sys:carbon.home}/repository/logs/apim_metrics-%d{MM-dd-yyyy}-%i.log", 1)
	})
	p := logsVolumeProblems(t, gw, dated)
	require.Len(t, p, 1)
	assert.Contains(t, p[0], "1 appenders have no bound (APIM_METRICS_APPENDER: filePattern ${sys:carbon.home}/repository/logs/apim_metrics-%d{MM-dd-yyyy}-%i.log has a date")
	// tm.out without its size trigger, as WSO2 has it: the active file grows without limit.
	noSize := edited(func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "appender.ATOMIKOS_LOGFILE.policies.size.") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	})
	p = logsVolumeProblems(t, gw, noSize)
	require.Len(t, p, 1)
	assert.Contains(t, p[0], "ATOMIKOS_LOGFILE: no SizeBasedTriggeringPolicy: the active file ${sys:carbon.home}/repository/logs/tm.out grows without limit")
	// Without JAVA_OPTS the start script's -XX:HeapDumpPath puts a whole heap into the directory.
	p = logsVolumeProblems(t, withEdit(gw, dropEnv("JAVA_OPTS")), data)
	require.Len(t, p, 1)
	assert.Contains(t, p[0], "for the OutOfMemoryError heap dump at $CARBON_HOME/repository/logs/heap-dump.hprof")
}

// heapDumpProblems checks that an API Manager pod's OutOfMemoryError heap dump goes to an
// emptyDir of its own that holds it: not repository/logs, and a sizeLimit of at least twice
// -Xmx (an HPROF record widens each 4-byte compressed reference to an 8-byte id and each
// 12-byte object header to 24 bytes, so a dump can approach twice the heap).
func heapDumpProblems(t *testing.T, w *harness.Resource) []string {
	t.Helper()
	lf := wso2LogFacts(t, w)
	c, volumes := wso2amSpec(t, w)
	inLogs, dump, xmx := fidelity.JVMHeapDump(lf.HeapDumpPath, lf.DefaultXmxMB, wso2amEnv(w, "JVM_MEM_OPTS"), wso2amEnv(w, "JAVA_OPTS"), fidelityLogsDir)
	if inLogs {
		return []string{fmt.Sprintf("the heap dump goes to %s, in %s", dump, fidelityLogsDir)}
	}
	for _, m := range asSlice(c["volumeMounts"]) {
		mount := m.(map[string]any)
		if mount["mountPath"] != path.Dir(dump) {
			continue
		}
		ed, _ := volumes[mount["name"].(string)]["emptyDir"].(map[string]any)
		if ed == nil {
			return []string{fmt.Sprintf("%s is not an emptyDir", path.Dir(dump))}
		}
		limit, err := fidelity.ParseQuantity(fmt.Sprint(ed["sizeLimit"]))
		if err != nil || limit < int64(2*xmx)<<20 {
			return []string{fmt.Sprintf("the heap dump volume's sizeLimit %v does not hold twice -Xmx%dm", ed["sizeLimit"], xmx)}
		}
		return nil
	}
	return []string{fmt.Sprintf("no volume is mounted at %s, where the heap dump goes", path.Dir(dump))}
}

func TestFidelityHeapDumpHasItsOwnVolume(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		g := run(t, stack, nil)
		ws := apimWorkloads(g)
		require.Len(t, ws, 2, stack)
		for _, w := range ws {
			assert.Empty(t, heapDumpProblems(t, w), "%s %s", stack, w.Name)
		}
	}
	g := run(t, "dev", map[string]any{"gateway.heapMb": 1024})
	gw := g.Find(typeDeployment, "apim-gw")
	require.Empty(t, heapDumpProblems(t, gw), "the volume follows the heap")
	assert.Equal(t, []string{"the heap dump goes to $CARBON_HOME/repository/logs/heap-dump.hprof, in repository/logs"},
		heapDumpProblems(t, withEdit(gw, dropEnv("JAVA_OPTS"))))
	small := withEdit(gw, func(spec, _ map[string]any) {
		for _, v := range asSlice(spec["volumes"]) {
			if v.(map[string]any)["name"] == "heap-dump" {
				v.(map[string]any)["emptyDir"] = map[string]any{"sizeLimit": "2047Mi"}
			}
		}
	})
	assert.Equal(t, []string{"the heap dump volume's sizeLimit 2047Mi does not hold twice -Xmx1024m"}, heapDumpProblems(t, small))
}

// podDiskProblems checks that an API Manager pod's ephemeral-storage limits hold its
// disk-backed emptyDirs, and the logs when they stay in the container's own layer: the kubelet
// evicts a pod whose containers and emptyDirs together use more than its containers' limits.
func podDiskProblems(t *testing.T, w *harness.Resource, data func(name, key string) (string, bool)) []string {
	t.Helper()
	c, volumes := wso2amSpec(t, w)
	var limits int64
	for _, cc := range asSlice(w.Get("spec.template.spec.containers")) {
		q, _ := cc.(map[string]any)["resources"].(map[string]any)["limits"].(map[string]any)["ephemeral-storage"].(string)
		n, err := fidelity.ParseQuantity(q)
		require.NoError(t, err, "%s container %s states its ephemeral-storage limit", w.Name, cc.(map[string]any)["name"])
		limits += n
	}
	var need int64
	var parts []string
	for name, v := range volumes {
		ed, _ := v["emptyDir"].(map[string]any)
		if ed == nil || ed["medium"] == "Memory" {
			continue
		}
		n, err := fidelity.ParseQuantity(fmt.Sprint(ed["sizeLimit"]))
		require.NoError(t, err, "%s: emptyDir %s has a sizeLimit", w.Name, name)
		need += n
		parts = append(parts, fmt.Sprintf("%s %s", name, ed["sizeLimit"]))
	}
	if len(logsVolumeProblems(t, w, data)) == 0 {
		// No logs emptyDir: the logs, and a heap dump sent there, grow in the container's layer,
		// as the pod's log4j2.properties (else WSO2's default) bounds them.
		lf := wso2LogFacts(t, w)
		apps := lf.Appenders
		for _, m := range asSlice(c["volumeMounts"]) {
			mount := m.(map[string]any)
			if !strings.HasSuffix(mount["mountPath"].(string), "/repository/conf/log4j2.properties") {
				continue
			}
			cm := volumes[mount["name"].(string)]["configMap"].(map[string]any)
			src, ok := data(cm["name"].(string), mount["subPath"].(string))
			require.True(t, ok)
			var err error
			apps, err = fidelity.ParseLog4j2(src)
			require.NoError(t, err)
		}
		in, dump, xmx := fidelity.JVMHeapDump(lf.HeapDumpPath, lf.DefaultXmxMB, wso2amEnv(w, "JVM_MEM_OPTS"), wso2amEnv(w, "JAVA_OPTS"), fidelityLogsDir)
		logs := fidelity.NeedForLogs("the pod's log4j2.properties", apps, fidelityLogsDir, in, dump, xmx)
		if len(logs.Unbounded) > 0 {
			return []string{fmt.Sprintf("the logs in the container's layer have no bound: %d appenders (%s, ...)", len(logs.Unbounded), logs.Unbounded[0].Why)}
		}
		need += logs.Bytes
		parts = append(parts, "logs in the container's layer "+fidelity.Human(logs.Bytes))
	}
	if need > limits {
		return []string{fmt.Sprintf("containers' ephemeral-storage limits %s < %s (%s)", fidelity.Human(limits), fidelity.Human(need), strings.Join(parts, ", "))}
	}
	return nil
}

func TestFidelityPodDiskLimitsHoldTheirVolumes(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		for _, mode := range []string{"opensearch", "none"} {
			g := run(t, stack, map[string]any{"analytics.mode": mode})
			for _, w := range apimWorkloads(g) {
				assert.Empty(t, podDiskProblems(t, w, configMapData(g)), "%s %s %s", stack, mode, w.Name)
			}
		}
	}
	gw, data := logsGateway(t)
	old := withEdit(gw, func(_, c map[string]any) {
		c["resources"].(map[string]any)["limits"].(map[string]any)["ephemeral-storage"] = "4Gi"
	})
	p := podDiskProblems(t, old, data)
	require.Len(t, p, 1, "the 4Gi limit of before cannot hold a heap dump and the logs")
	assert.Contains(t, p[0], "containers' ephemeral-storage limits 4352Mi < ")
}
