//go:build realpods

package realpods

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The zone loss fault (issue 19, 4c).

// zoneResult is what one zone loss under load measured.
type zoneResult struct {
	report                         report
	notReady, tainted, whole, back time.Duration
	node                           node
}

// loseZone stops every process of node n (its zone's only node) under the gateway load and
// waits until every replicated workload serves whole from the other zone; then brings the
// node back and waits for it and for its dead pods to be cleaned up.
func (f *faults) loseZone(t *testing.T, n node, timeout time.Duration) zoneResult {
	t.Helper()
	svc, _ := serviceOf(t, f.k, gatewayWL)
	tr := trackSelector(t, f.k, ns, gatewayWL.selector, svc)
	l := f.startLoad(t, f.gateway, faultRPS)
	time.Sleep(5 * time.Second)
	res := zoneResult{node: n}
	// A StatefulSet does not replace a pod on a lost node until the node is back (or deleted,
	// or marked out of service): it never runs two pods of one identity. For one, "whole" is
	// its replicas outside the lost zone serving.
	type expectation struct {
		w       workload
		sts     bool
		minimum int64
	}
	var expect []expectation
	for _, w := range []workload{gatewayWL, backendWL, controlPlaneWL} {
		x := expectation{w: w, sts: w.statefulSet(f.k)}
		if x.sts {
			want, err := w.desired(f.k)
			require.NoError(t, err)
			x.minimum = want - int64(w.placement(f.k)[n.name])
			fmt.Printf("  the %s is a StatefulSet: its %d replica(s) on %s come back only with the node\n", w.title, want-x.minimum, n.name)
		}
		expect = append(expect, x)
	}
	whole := func(s *state) bool {
		for _, x := range expect {
			if !x.sts && !s.full(x.w, n.name) {
				return false
			}
			if x.sts {
				var off int64
				for _, p := range serving(s.podsOf(x.w.selector)) {
					if p.node != n.name {
						off++
					}
				}
				if off < x.minimum {
					return false
				}
			}
		}
		return true
	}
	v := watchView(t, f.k)
	defer v.close()
	// The node is found not Ready, then every workload is whole from the other zone, no longer
	// counting the lost node's pods as serving (until the node is found unreachable they still
	// look Ready); the unreachable taint comes on its own time.
	healed := v.expect(
		func(s *state) bool { ready, _ := s.nodeCondition(n.name); return ready != "True" && ready != "" },
		whole)
	tainted := v.expect(func(s *state) bool { _, unreachable := s.nodeCondition(n.name); return unreachable })
	start := time.Now()
	nodeScript(t, f.e, "stop", n.name)
	defer func() {
		// However the test ends, the zone comes back: pods stuck on it would keep the
		// namespace from being deleted.
		if res.back == 0 {
			nodeScript(t, f.e, "start", n.name)
		}
	}()
	healed.Wait(timeout)
	res.notReady, res.whole, res.tainted = healed.Since(0, start), healed.Since(1, start), tainted.Since(0, start)
	v.close()
	time.Sleep(3 * time.Second)
	res.report = l.Stop()
	tr.Stop(t)
	tr.print("gateway")
	t0 := time.Now()
	nodeScript(t, f.e, "start", n.name)
	waitState(t, f.k, 3*time.Minute, func(s *state) bool { r, _ := s.nodeCondition(n.name); return r == "True" },
		"node %s did not come back Ready", n.name)
	res.back = time.Since(t0)
	// The pods evicted from it are deleted once its kubelet confirms they are gone.
	waitState(t, f.k, 3*time.Minute, func(s *state) bool {
		for _, p := range s.podsOf("") {
			if p.node == n.name && p.terminating {
				return false
			}
		}
		return true
	}, "the pods evicted from %s were not cleaned up after it came back", n.name)
	return res
}

// zoneToLose is the zone whose node does not run MySQL: a single-replica StatefulSet on a
// lost node is not replaced until the node is deleted or marked out of service (it might still
// hold the volume), so losing MySQL's zone stops MySQL until then, with or without spreading.
func (f *faults) zoneToLose(t *testing.T) (node, string) {
	ps, err := pods(f.k, "app.kubernetes.io/component=database")
	require.NoError(t, err)
	require.Len(t, ps, 1, "one MySQL pod")
	return f.c.other(ps[0].node), ps[0].node
}

// zoneBounds are the bounds of a zone loss: failed requests for a fraction frac of the
// requests' paths crossing the lost zone, and the time until every workload serves whole
// from the other zone.
// inits are the init containers' times measured before the fault (initTimes).
func (f *faults) zoneBounds(t *testing.T, rate, frac float64, cpSurvives bool, inits map[string]time.Duration) (int, time.Duration) {
	// Until the node-lifecycle controller finds the node's last heartbeat (up to heartbeatLag
	// old at the stop) older than its grace period, at its next check, and every kube-proxy
	// drops the node's pods, requests routed there fail; keep-alive requests on a connection to
	// it hang up to the client's timeout before it reconnects. Then each gateway's pooled
	// connections to a lost backend pod may fail one request each.
	detect := f.c.grace + f.c.monitor + heartbeatLag + propagation
	failed := int(math.Ceil(rate*frac*(detect+requestTimeout).Seconds())) + proxyPool*hpaMin
	// The pods are evicted tolerationSeconds after the taint (the controller taints at its
	// next check, and evicts one zone every 10 s at most: --node-eviction-rate 0.1); the
	// replacements then start, the control plane's first when none survived (a gateway needs
	// it to start).
	// They are new pods: their init containers run first, as long as they took for the pods
	// the workload had before the fault (this run, this machine).
	startup, readiness := probePeriods(t, f.k, gatewayWL)
	start := inits[gatewayWL.title] + startBound(f.startDelayOf(t, gatewayWL), readyDelayValue(t), startup, readiness)
	recovery := detect + f.c.toleration + 10*time.Second + start + 15*time.Second
	if !cpSurvives {
		cs, cr := probePeriods(t, f.k, controlPlaneWL)
		recovery += inits[controlPlaneWL.title] + startBound(f.startDelayOf(t, controlPlaneWL), readyDelayValue(t), cs, cr)
	}
	return failed, recovery
}

// initTimes measures the init containers' time of the gateway's and the control plane's
// current pods (initTime), before a fault replaces any.
func (f *faults) initTimes(t *testing.T) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, w := range []workload{gatewayWL, controlPlaneWL} {
		out[w.title] = initTime(t, f.k, w)
	}
	fmt.Printf("  init containers before the fault: gateway %s, control plane %s (longest of the current pods)\n",
		out[gatewayWL.title], out[controlPlaneWL.title])
	return out
}

// lostFraction is the share of requests whose path crosses node lost: those to a gateway pod
// there, and those through a gateway elsewhere to a backend pod there.
func lostFraction(gw, be map[string]int, lost string) float64 {
	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	g, b := float64(gw[lost])/float64(sum(gw)), float64(be[lost])/float64(sum(be))
	return 1 - (1-g)*(1-b)
}

// zoneLoss (c): the node of one zone is lost whole (its network, kubelet, kube-proxy,
// containerd and every container) while each replicated workload has replicas in both zones.
func (f *faults) zoneLoss(t *testing.T) map[string]any {
	k := f.k
	f.waitCount(t, gatewayWL, hpaMin, 6*time.Minute)
	lose, mysqlNode := f.zoneToLose(t)
	for _, w := range []workload{gatewayWL, backendWL, controlPlaneWL} {
		if w.spread(t, k, f.c) {
			fmt.Printf("  the %s's pods were on one node (after the drains); moved one so that each zone has one\n", w.title)
		}
	}
	place := f.printPlacement("before the zone loss")
	gw, be, cp := gatewayWL.placement(k), backendWL.placement(k), controlPlaneWL.placement(k)
	frac := lostFraction(gw, be, lose.name)
	cpSurvives := len(cp) > 1 || cp[lose.name] == 0
	inits := f.initTimes(t)
	r := f.loseZone(t, lose, 8*time.Minute)
	v := r.report.judge(nil)
	bound, recoveryBound := f.zoneBounds(t, v.rps, frac, cpSurvives, inits)
	f.printZone("FAULT ZONE LOSS", lose, mysqlNode, v, r, bound, recoveryBound)
	assert.Positive(t, r.whole, "the workloads never served whole from the other zone")
	assert.LessOrEqual(t, r.whole, recoveryBound, "every workload must serve whole from the other zone in time")
	assert.LessOrEqual(t, v.failed, bound, "a lost zone may cost the requests routed there until the control plane notices (%.0f%% of paths crossed it)", frac*100)
	assert.Zero(t, v.clientRetries, "Go's transport retried requests")
	assert.GreaterOrEqual(t, v.rps, faultRPS*0.8)
	out := v.fields()
	f.zoneFields(out, r, bound, recoveryBound, frac)
	out["placement"], out["gateway_init_seconds"] = place, secs(inits[gatewayWL.title])
	return out
}

func (f *faults) printZone(title string, lose node, mysqlNode string, v verdict, r zoneResult, bound int, recoveryBound time.Duration) {
	fmt.Printf("%s (%s, node %s; MySQL stays on %s): %s\n", title, lose.zone, lose.name, mysqlNode, v.faultString())
	fmt.Printf("  node NotReady after %.1fs, tainted unreachable after %.1fs, every workload serving whole from the other zone after %.1fs; node back Ready %.1fs after its restart (bounds: %d failed, %.0fs)\n",
		secs(r.notReady), secs(r.tainted), secs(r.whole), secs(r.back), bound, recoveryBound.Seconds())
	fmt.Printf("  timings here: node-monitor-grace-period %s, node-monitor-period %s, not-ready/unreachable toleration %s (Kubernetes' defaults: 50s, 5s, 300s)\n",
		f.c.grace, f.c.monitor, f.c.toleration)
}

func (f *faults) zoneFields(out map[string]any, r zoneResult, bound int, recoveryBound time.Duration, frac float64) {
	out["seconds"] = r.whole.Seconds()
	out["zone"], out["node"] = r.node.zone, r.node.name
	out["not_ready_seconds"], out["tainted_seconds"], out["whole_seconds"], out["node_back_seconds"] = secs(r.notReady), secs(r.tainted), secs(r.whole), secs(r.back)
	out["bound_failed_requests"], out["bound_recovery_seconds"], out["lost_path_fraction"] = bound, recoveryBound.Seconds(), math.Round(frac*100)/100
	out["node_monitor_grace_seconds"], out["node_monitor_period_seconds"], out["toleration_seconds"] = f.c.grace.Seconds(), f.c.monitor.Seconds(), f.c.toleration.Seconds()
}

// zoneLossNegative: the same zone lost with both gateway replicas in it.
func (f *faults) zoneLossNegative(t *testing.T) map[string]any {
	k := f.k
	f.waitCount(t, gatewayWL, hpaMin, 6*time.Minute)
	lose, mysqlNode := f.zoneToLose(t)
	for _, w := range []workload{backendWL, controlPlaneWL} {
		w.spread(t, k, f.c)
	}
	gatewayWL.concentrate(t, k, f.c, lose.name)
	place := f.printPlacement("before the zone loss (both gateway replicas in the zone lost)")
	// The positive case's bound, for its placement: one gateway and one backend replica per
	// zone, so three paths in four cross the lost zone.
	posFrac := 0.75
	inits := f.initTimes(t)
	r := f.loseZone(t, lose, 8*time.Minute)
	v := r.report.judge(nil)
	bound, recoveryBound := f.zoneBounds(t, v.rps, posFrac, true, inits)
	f.printZone("NEGATIVE CONTROL ZONE LOSS", lose, mysqlNode, v, r, bound, recoveryBound)
	assert.Greater(t, v.failed, bound, "losing the zone that holds every gateway replica must fail more requests than the spread bound (%d)", bound)
	out := v.fields()
	f.zoneFields(out, r, bound, recoveryBound, 1)
	out["placement"] = place
	return out
}
