//go:build realpods

package realpods

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SIGKILL faults: a gateway pod (issue 19, 4a) and a control-plane pod (4d).

// killResult is what one kill under load measured.
type killResult struct {
	gateway, other report
	killed         podInfo
	replicas       int
	at             time.Time
	endpointGone   time.Duration // until the killed pod was no longer Ready in the API
	ready          time.Duration // until the workload had every replica serving again
	available      time.Duration // until its controllers reported them all available (minReadySeconds)
}

// killUnderLoad kills one serving pod of w with SIGKILL (the one with the fewest restarts)
// while the gateway load runs (and otherLoad, when set), and waits until w has all its
// replicas serving again.
func (f *faults) killUnderLoad(t *testing.T, w workload, otherLoad *loadSpec, otherRPS int, timeout time.Duration) killResult {
	t.Helper()
	ps, err := pods(f.k, w.selector)
	require.NoError(t, err)
	s := serving(ps)
	require.NotEmpty(t, s)
	sort.SliceStable(s, func(i, j int) bool { return s[i].restarts < s[j].restarts })
	victim := s[0]
	svc, _ := serviceOf(t, f.k, w)
	tr := trackSelector(t, f.k, ns, w.selector, svc)
	gw := f.startLoad(t, f.gateway, faultRPS)
	var other *load
	if otherLoad != nil {
		other = startLoadSpec(*otherLoad, otherRPS)
	}
	v := watchView(t, f.k)
	defer v.close()
	// The victim stops serving (its readiness gone, or it restarted), then the workload is
	// full again, then its controllers count every replica available: each at the event
	// after which it first held.
	m := v.expect(
		func(s *state) bool {
			for _, p := range serving(s.podsOf(w.selector)) {
				if p.uid == victim.uid && p.restarts == victim.restarts {
					return false
				}
			}
			return true
		},
		func(s *state) bool { return s.full(w) },
		func(s *state) bool { return s.available(w) })
	time.Sleep(5 * time.Second)
	res := killResult{killed: victim, replicas: len(s), at: time.Now()}
	killContainer(t, f.c, victim)
	m.Wait(timeout)
	res.endpointGone, res.ready, res.available = m.Since(0, res.at), m.Since(1, res.at), m.Since(2, res.at)
	time.Sleep(3 * time.Second)
	res.gateway = gw.Stop()
	if other != nil {
		res.other = other.Stop()
	}
	tr.Stop(t)
	tr.print(w.title)
	return res
}

func secs(d time.Duration) float64 { return math.Round(d.Seconds()*10) / 10 }

// gatewayKill (a): one of two gateway pods dies with SIGKILL (no preStop, no drain).
func (f *faults) gatewayKill(t *testing.T) map[string]any {
	k := f.k
	f.waitCount(t, gatewayWL, hpaMin, 6*time.Minute)
	if gatewayWL.spread(t, k, f.c) {
		fmt.Println("  the gateway's pods were on one node (after the rollouts and the HPA); moved one so that each zone has one")
	}
	place := f.printPlacement("before the kill")
	startup, readiness := probePeriods(t, k, gatewayWL)
	recoveryBound := killWindow + startBound(f.startDelayOf(t, gatewayWL), readyDelayValue(t), startup, readiness) + 10*time.Second
	r := f.killUnderLoad(t, gatewayWL, nil, 0, 4*time.Minute)
	v := r.gateway.judge(nil)
	bound := killBound(v.rps, r.replicas, keepAliveConns)
	fmt.Printf("FAULT GATEWAY SIGKILL (%d replicas, killed %s on %s): %s\n", r.replicas, r.killed.name, r.killed.node, v.faultString())
	fmt.Printf("  not ready after %.1fs; all %d serving again after %.1fs, available after %.1fs (bounds: %d failed, %.0fs)\n",
		secs(r.endpointGone), r.replicas, secs(r.ready), secs(r.available), bound, recoveryBound.Seconds())
	if v.failed > 0 {
		fmt.Printf("  failures (t since load start):\n%s", r.gateway.failures(15))
	}
	assert.Equal(t, 2, r.replicas, "two gateway replicas were serving when one was killed")
	assert.LessOrEqual(t, v.failed, bound, "a SIGKILLed gateway pod may cost its share of %s of requests and one per keep-alive connection", killWindow)
	assert.Positive(t, r.ready, "the gateway never had all its replicas serving again")
	assert.LessOrEqual(t, r.ready, recoveryBound, "the killed gateway took too long to serve again")
	assert.Zero(t, v.clientRetries, "Go's transport retried requests: failures would be hidden")
	assert.GreaterOrEqual(t, v.rps, faultRPS*0.8, "the load fell short of %d requests/s", faultRPS)
	out := v.fields()
	out["seconds"] = r.ready.Seconds()
	out["bound_failed_requests"], out["bound_recovery_seconds"] = bound, recoveryBound.Seconds()
	out["replicas"], out["not_ready_seconds"], out["ready_seconds"], out["available_seconds"] = r.replicas, secs(r.endpointGone), secs(r.ready), secs(r.available)
	out["placement"] = place
	return out
}

// gatewayKillNegative: the same kill with one gateway replica: every request waits for it to
// start again.
func (f *faults) gatewayKillNegative(t *testing.T) map[string]any {
	min, max := f.gatewayHPA(t, 1, 1)
	defer func() {
		f.gatewayHPA(t, min, max)
		f.waitCount(t, gatewayWL, min, 6*time.Minute)
	}()
	f.waitCount(t, gatewayWL, 1, 6*time.Minute)
	r := f.killUnderLoad(t, gatewayWL, nil, 0, 4*time.Minute)
	v := r.gateway.judge(nil)
	bound := killBound(v.rps, 2, keepAliveConns)
	fmt.Printf("NEGATIVE CONTROL GATEWAY SIGKILL (1 replica, killed %s): %s; serving again after %.1fs\n", r.killed.name, v.faultString(), secs(r.ready))
	assert.Equal(t, 1, r.replicas)
	assert.Greater(t, v.failed, bound, "one gateway replica killed must fail more requests than the two-replica bound (%d), or the bound cannot fail", bound)
	out := v.fields()
	out["seconds"] = r.ready.Seconds()
	out["bound_failed_requests_of_positive"] = bound
	out["replicas"], out["ready_seconds"] = 1, secs(r.ready)
	return out
}

// controlPlaneReplicas scales the control plane's StatefulSet to n directly, leaving every
// config as apim.replicas made it (the gateways still list both nodes): the negative control
// then differs from the positive case only in the replicas serving, with no rollout of its own.
func (f *faults) controlPlaneReplicas(t *testing.T, n int) {
	t.Helper()
	for _, c := range controlPlaneWL.controllers(t, f.k) {
		err := f.k.MergePatch(c,
			map[string]any{"spec": map[string]any{"replicas": n}})
		require.NoError(t, err)
	}
	f.waitCount(t, controlPlaneWL, int64(n), 6*time.Minute)
}

// controlPlaneKill (d): one of two control-plane pods dies with SIGKILL while tokens issued
// before keep working through the gateway and new ones are asked for on the control plane's
// Service.
func (f *faults) controlPlaneKill(t *testing.T) map[string]any {
	k := f.k
	// apim.replicas (openStack) runs the control plane highly available.
	f.waitCount(t, controlPlaneWL, cpReplicas, 6*time.Minute)
	if controlPlaneWL.spread(t, k, f.c) {
		fmt.Println("  the control plane's pods were on one node; moved one so that each zone has one")
	}
	place := f.printPlacement("before the kill")
	startup, readiness := probePeriods(t, k, controlPlaneWL)
	recoveryBound := killWindow + startBound(f.startDelayOf(t, controlPlaneWL), readyDelayValue(t), startup, readiness) + 10*time.Second
	tokens := f.tokenLoad(t)
	r := f.killUnderLoad(t, controlPlaneWL, &tokens, cpRPS, 4*time.Minute)
	gv, cv := r.gateway.judge(nil), r.other.judge(nil)
	bound := killBound(cv.rps, r.replicas, tokens.keepAlive)
	after := r.other.between(r.at.Add(killWindow), r.at.Add(r.ready))
	av := after.judge(nil)
	served := after.servedBy()
	survivor := ""
	for p := range served {
		if p != r.killed.name {
			survivor = p
		}
	}
	fmt.Printf("FAULT CONTROL PLANE SIGKILL (%d replicas, killed %s on %s):\n  through the gateway with a token issued before: %s\n  control plane's token endpoint: %s\n",
		r.replicas, r.killed.name, r.killed.node, gv.faultString(), cv.faultString())
	fmt.Printf("  from %s after the kill until all %d served again (%.1fs): %d requests, %d failed, answered by %v (bounds: %d failed, %.0fs)\n",
		killWindow, r.replicas, secs(r.ready), av.total, av.failed, served, bound, recoveryBound.Seconds())
	if cv.failed > 0 {
		fmt.Printf("  token endpoint failures (t since load start):\n%s", r.other.failures(10))
	}
	assert.Equal(t, 2, r.replicas, "two control-plane replicas were serving when one was killed")
	assert.True(t, gv.acceptable(), "traffic with an already-issued token must not fail while a control-plane pod dies: %s", gv)
	assert.LessOrEqual(t, cv.failed, bound, "the control plane's Service may lose the dead pod's share of %s", killWindow)
	assert.Positive(t, av.total, "requests to the control plane after the kill")
	assert.Zero(t, av.failed, "the surviving replica must answer every request on the control plane's Service once the dead one is out of its endpoints")
	assert.NotEmpty(t, survivor, "a replica other than the killed one answered on the control plane's Service")
	assert.Positive(t, r.ready, "the control plane never had all its replicas serving again")
	assert.LessOrEqual(t, r.ready, recoveryBound)
	assert.Zero(t, gv.clientRetries+cv.clientRetries, "Go's transport retried requests")
	assert.GreaterOrEqual(t, gv.rps, faultRPS*0.8, "the load fell short of %d requests/s", faultRPS)
	// A token issued now (by whichever replica answers) is good at the gateway too: the
	// replicas sign with the same key.
	req, _ := http.NewRequest(http.MethodGet, f.gateway.url, nil)
	req.Header.Set("Authorization", "Bearer "+issueToken(t, tokens.url))
	assert.Equal(t, http.StatusOK, status(req), "a token issued after the kill works at the gateway")
	out := map[string]any{"seconds": r.ready.Seconds(), "gateway": gv.fields(), "token_endpoint": cv.fields(),
		"bound_failed_requests": bound, "bound_recovery_seconds": recoveryBound.Seconds(),
		"replicas": r.replicas, "not_ready_seconds": secs(r.endpointGone), "ready_seconds": secs(r.ready),
		"available_seconds": secs(r.available), "after_window_failed": av.failed, "answered_by": served,
		"placement": place}
	return out
}

// tokenLoad is the load on the control plane's token endpoint, through its Service.
func (f *faults) tokenLoad(t *testing.T) loadSpec {
	_, ip := serviceOf(t, f.k, controlPlaneWL)
	return loadSpec{url: "https://" + ip + ":9443/oauth2/token", expect: "access_token",
		form: url.Values{"grant_type": {"client_credentials"}}, keepAlive: 4}
}

// controlPlaneKillNegative: the same kill with one control-plane replica: its Service has no
// one to answer until the pod is back.
func (f *faults) controlPlaneKillNegative(t *testing.T) map[string]any {
	f.controlPlaneReplicas(t, 1)
	defer f.controlPlaneReplicas(t, cpReplicas)
	tokens := f.tokenLoad(t)
	r := f.killUnderLoad(t, controlPlaneWL, &tokens, cpRPS, 4*time.Minute)
	gv, cv := r.gateway.judge(nil), r.other.judge(nil)
	bound := killBound(cv.rps, 2, tokens.keepAlive)
	after := r.other.between(r.at.Add(killWindow), r.at.Add(r.ready)).judge(nil)
	fmt.Printf("NEGATIVE CONTROL CONTROL PLANE SIGKILL (1 replica, killed %s): token endpoint %s; after the first %s: %d failed of %d; serving again after %.1fs\n  through the gateway meanwhile (not asserted: gateways do not need the control plane per request): %s\n",
		r.killed.name, cv.faultString(), killWindow, after.failed, after.total, secs(r.ready), gv.faultString())
	assert.Equal(t, 1, r.replicas)
	assert.Greater(t, cv.failed, bound, "one control-plane replica killed must fail more token requests than the two-replica bound (%d)", bound)
	assert.Positive(t, after.failed, "with no surviving replica the Service must fail requests after the first %s", killWindow)
	return map[string]any{"seconds": r.ready.Seconds(), "gateway": gv.fields(), "token_endpoint": cv.fields(),
		"bound_failed_requests_of_positive": bound, "after_window_failed": after.failed, "replicas": 1, "ready_seconds": secs(r.ready)}
}
