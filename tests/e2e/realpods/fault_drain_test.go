//go:build realpods

package realpods

import (
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
	"github.com/wso2-k8s/apim-gke/tests/e2e/realpods/images"
)

// The node drain fault (issue 19, 4b), and the slow-starting gateway it needs.

// slowGateway rolls the gateway onto a stand-in that starts as slowly as WSO2's does, so
// that the drain and zone tests see a replacement pod take long to serve. Its start-up delay is
// minSlowStart, or the gateway's preStop plus 30 s if that is longer: the drain's negative
// control relies on it (with no budget, the old pods stop serving after their preStop and the
// drain's 3 s, well before the new ones serve), whatever preStop the product sets.
func (f *faults) slowGateway(t *testing.T) map[string]any {
	preStop := f.preStopOf(t, gatewayWL)
	f.slowStart = max(minSlowStart, preStop+30*time.Second)
	importImages(t, f.e, f.root, images.Spec{APIMVariants: []images.Variant{{Tag: slowTag,
		Args: []string{"-start-delay=" + f.slowStart.String(), "-ready-delay=" + apimReadyDelay}}}})
	f.set(t, "gateway.image", images.Ref("apim", slowTag))
	f.up(t)
	gatewayWL.waitFull(t, f.k, 10*time.Minute)
	fmt.Printf("  gateway on %s: ports open %s after start; its preStop keeps a pod serving %s after it is told to stop\n",
		images.Ref("apim", slowTag), f.slowStart, preStop)
	return map[string]any{"prestop_seconds": preStop.Seconds(), "start_delay_seconds": f.slowStart.Seconds()}
}

// preStopOf reads the workload's preStop pause (a sleep command or sleep action).
func (f *faults) preStopOf(t *testing.T, w workload) time.Duration {
	t.Helper()
	var l kubeclient.List
	_, err := f.k.Get("/api/v1/namespaces/"+ns+"/pods?labelSelector="+url.QueryEscape(w.selector), &l)
	require.NoError(t, err)
	require.NotEmpty(t, l.Items)
	pre := l.Items[0].Items("spec", "containers")[0]
	if n := pre.Num("lifecycle", "preStop", "sleep", "seconds"); n > 0 {
		return time.Duration(n) * time.Second
	}
	cmd, _ := pre.Path("lifecycle", "preStop", "exec", "command").([]any)
	if len(cmd) == 2 && cmd[0] == "sleep" {
		var n int
		_, err := fmt.Sscan(fmt.Sprint(cmd[1]), &n)
		require.NoError(t, err)
		return time.Duration(n) * time.Second
	}
	t.Fatalf("the %s's preStop is not a sleep: %v", w.title, pre.Path("lifecycle"))
	return 0
}

// drain runs `kubectl drain` (cordon, then the eviction API, retrying evictions a
// PodDisruptionBudget refuses) on node under the gateway load, then waits until the gateway
// has all its replicas serving again; the node is uncordoned after.
func (f *faults) drain(t *testing.T, nodeName string) (report, *tracker, time.Duration, time.Duration, int, string) {
	t.Helper()
	svc, _ := serviceOf(t, f.k, gatewayWL)
	ps, err := pods(f.k, gatewayWL.selector)
	require.NoError(t, err)
	var gatewayPods []string
	for _, p := range ps {
		gatewayPods = append(gatewayPods, p.name)
	}
	tr := trackSelector(t, f.k, ns, gatewayWL.selector, svc)
	l := f.startLoad(t, f.gateway, faultRPS)
	v := watchView(t, f.k)
	defer v.close()
	// Whole again: every replica serving off the drained node (judged at every event, from
	// before the drain: evictions start while kubectl runs).
	healed := v.expect(func(s *state) bool { return s.full(gatewayWL, nodeName) })
	time.Sleep(5 * time.Second)
	start := time.Now()
	cmd := exec.Command(f.e.bin+"/kubectl", "--kubeconfig", f.e.kubeconfig, "drain", nodeName,
		"--ignore-daemonsets", "--delete-emptydir-data", "--timeout", "10m")
	out, err := cmd.CombinedOutput()
	drained := time.Since(start)
	defer cordon(t, f.k, nodeName, false)
	require.NoError(t, err, "kubectl drain %s: %s", nodeName, out)
	require.True(t, healed.Wait(6*time.Minute), "the gateway never had all its replicas serving off %s", nodeName)
	whole := healed.Since(0, start)
	time.Sleep(3 * time.Second)
	r := l.Stop()
	tr.Stop(t)
	tr.print("gateway")
	return r, tr, drained, whole, gatewayRefusals(string(out), gatewayPods), string(out)
}

// gatewayRefusals counts the evictions of the gateway's pods that kubectl drain reports a
// disruption budget refused (it retries those): the drain's other pods (the control plane's)
// have budgets of their own, whose refusals say nothing of the gateway's.
func gatewayRefusals(drainOutput string, gatewayPods []string) int {
	n := 0
	for _, line := range strings.Split(drainOutput, "\n") {
		if !strings.Contains(line, "disruption budget") {
			continue
		}
		for _, p := range gatewayPods {
			// kubectl's line: error when evicting pods/"NAME" -n "NS" (will retry after 5s): ...
			if strings.Contains(line, `pods/"`+p+`"`) {
				n++
				break
			}
		}
	}
	return n
}

// nodeDrain (b): the node holding both gateway replicas is drained; the PodDisruptionBudget
// lets one go at a time, each after its replacement serves.
func (f *faults) nodeDrain(t *testing.T) map[string]any {
	k := f.k
	f.waitCount(t, gatewayWL, hpaMin, 6*time.Minute)
	target := f.c.nodes[0].name
	gatewayWL.concentrate(t, k, f.c, target)
	place := f.printPlacement("before the drain (both gateway replicas on " + target + ")")
	r, tr, drained, whole, blocked, _ := f.drain(t, target)
	v := r.judge(tr.windows())
	fmt.Printf("FAULT NODE DRAIN (%s, both gateway replicas on it, PDB maxUnavailable as the product sets it): %s\n", target, v)
	fmt.Printf("  kubectl drain took %.1fs (%d evictions of a gateway pod refused by its disruption budget and retried); the gateway served whole again on the other node after %.1fs\n",
		secs(drained), blocked, secs(whole))
	if v.failed > 0 {
		fmt.Printf("  failures (t since load start):\n%s", r.failures(15))
	}
	assert.True(t, v.acceptable(), "a drain that respects the PodDisruptionBudget must not fail requests: %s", v)
	assert.Positive(t, blocked, "the gateway's PodDisruptionBudget never held an eviction back: it did not protect this drain")
	assert.Zero(t, v.clientRetries, "Go's transport retried requests")
	assert.GreaterOrEqual(t, v.rps, faultRPS*0.8)
	out := v.fields()
	out["seconds"] = drained.Seconds()
	out["gateway_whole_seconds"], out["gateway_evictions_refused_by_pdb"], out["node"], out["placement"] = secs(whole), blocked, target, place
	return out
}

// gatewayPDB patches the gateway's PodDisruptionBudget spec and returns a patch that restores it.
func (f *faults) gatewayPDB(t *testing.T, spec map[string]any) (restore func()) {
	t.Helper()
	var l kubeclient.List
	_, err := f.k.Get("/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets?labelSelector="+url.QueryEscape(gatewayWL.selector), &l)
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "one PodDisruptionBudget for the gateway")
	path := "/apis/policy/v1/namespaces/" + ns + "/poddisruptionbudgets/" + l.Items[0].Str("metadata", "name")
	old := map[string]any{"maxUnavailable": l.Items[0].Path("spec", "maxUnavailable"), "minAvailable": l.Items[0].Path("spec", "minAvailable")}
	err = f.k.MergePatch(path, map[string]any{"spec": spec})
	require.NoError(t, err)
	return func() {
		err := f.k.MergePatch(path, map[string]any{"spec": old})
		assert.NoError(t, err)
	}
}

// nodeDrainNegative: the same drain of the node holding both gateway replicas with a budget
// that lets every pod go at once.
func (f *faults) nodeDrainNegative(t *testing.T) map[string]any {
	k := f.k
	f.waitCount(t, gatewayWL, hpaMin, 6*time.Minute)
	// The positive drain left both replicas on the other node.
	target := f.c.nodes[1].name
	gatewayWL.concentrate(t, k, f.c, target)
	restore := f.gatewayPDB(t, map[string]any{"maxUnavailable": "100%", "minAvailable": nil})
	defer restore()
	r, tr, drained, whole, blocked, _ := f.drain(t, target)
	v := r.judge(tr.windows())
	fmt.Printf("NEGATIVE CONTROL NODE DRAIN (%s, both gateway replicas on it, PDB maxUnavailable 100%%): %s; drain %.1fs, %d gateway evictions refused, whole again after %.1fs\n",
		target, v.faultString(), secs(drained), blocked, secs(whole))
	assert.Greater(t, v.failed, 0, "a drain that evicts both gateway replicas at once must fail requests, or this test cannot see a missing budget")
	assert.Zero(t, blocked, "with maxUnavailable 100% no gateway eviction may be refused")
	out := v.fields()
	out["seconds"] = drained.Seconds()
	out["gateway_whole_seconds"], out["gateway_evictions_refused_by_pdb"], out["node"] = secs(whole), blocked, target
	return out
}
