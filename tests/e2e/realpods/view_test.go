//go:build realpods

package realpods

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
)

// state is what the placement, fault and autoscaling checks judge: the namespace's pods,
// Deployments, StatefulSets and HorizontalPodAutoscalers, and the cluster's nodes. The same
// rules read it whether it came from one list (listState) or is kept current by watches
// (view).
type state struct {
	pods         map[types.UID]*corev1.Pod
	deployments  map[types.UID]*appsv1.Deployment
	statefulSets map[types.UID]*appsv1.StatefulSet
	hpas         map[types.UID]*autoscalingv2.HorizontalPodAutoscaler
	nodes        map[types.UID]*corev1.Node
}

func newState() *state {
	return &state{pods: map[types.UID]*corev1.Pod{}, deployments: map[types.UID]*appsv1.Deployment{},
		statefulSets: map[types.UID]*appsv1.StatefulSet{}, hpas: map[types.UID]*autoscalingv2.HorizontalPodAutoscaler{},
		nodes: map[types.UID]*corev1.Node{}}
}

// keep puts o in m under uid, or takes it out on a deletion.
func keep[T any](m map[types.UID]T, uid types.UID, o T, deleted bool) {
	if deleted {
		delete(m, uid)
	} else {
		m[uid] = o
	}
}

// apply takes one event (or one listed object).
func (s *state) apply(e kubeclient.Event) {
	uid, deleted := e.Meta().GetUID(), e.Type == watch.Deleted
	switch o := e.Object.(type) {
	case *corev1.Pod:
		keep(s.pods, uid, o, deleted)
	case *appsv1.Deployment:
		keep(s.deployments, uid, o, deleted)
	case *appsv1.StatefulSet:
		keep(s.statefulSets, uid, o, deleted)
	case *autoscalingv2.HorizontalPodAutoscaler:
		keep(s.hpas, uid, o, deleted)
	case *corev1.Node:
		keep(s.nodes, uid, o, deleted)
	}
}

// listWatches are the list-and-watch of every kind a state holds.
func listWatches(k *kubeclient.Client) map[string]cache.ListerWatcherWithContext {
	core, apps := k.Clientset.CoreV1().RESTClient(), k.Clientset.AppsV1().RESTClient()
	return map[string]cache.ListerWatcherWithContext{
		"pods":                     kubeclient.ListWatch(core, "pods", ns, "", ""),
		"nodes":                    kubeclient.ListWatch(core, "nodes", "", "", ""),
		"deployments":              kubeclient.ListWatch(apps, "deployments", ns, "", ""),
		"statefulsets":             kubeclient.ListWatch(apps, "statefulsets", ns, "", ""),
		"horizontalpodautoscalers": kubeclient.ListWatch(k.Clientset.AutoscalingV2().RESTClient(), "horizontalpodautoscalers", ns, "", ""),
	}
}

// listState reads the state once: the kinds named (keys of listWatches), or every kind.
// Each rule reads only some kinds; a one-off check lists just those.
func listState(k *kubeclient.Client, kinds ...string) (*state, error) {
	all := listWatches(k)
	if len(kinds) == 0 {
		for kind := range all {
			kinds = append(kinds, kind)
		}
	}
	s := newState()
	ctx, cancel := context.WithTimeout(context.Background(), kubeclient.Timeout)
	defer cancel()
	for _, kind := range kinds {
		lw, ok := all[kind]
		if !ok {
			return nil, fmt.Errorf("listState: no kind %q", kind)
		}
		list, err := lw.ListWithContext(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		objs, err := meta.ExtractList(list)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		for _, o := range objs {
			s.apply(kubeclient.Event{Type: kubeclient.Listed, Object: o})
		}
	}
	return s, nil
}

func matches(selector string, l map[string]string) bool {
	sel, err := labels.Parse(selector)
	return err == nil && sel.Matches(labels.Set(l))
}

// podInfoOf is what the checks read of a pod.
func podInfoOf(p *corev1.Pod) podInfo {
	pi := podInfo{name: p.Name, node: p.Spec.NodeName, phase: string(p.Status.Phase),
		terminating: p.DeletionTimestamp != nil, uid: string(p.UID)}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			pi.ready = true
		}
	}
	// The main container: the first in the spec (statuses come sorted by name).
	if len(p.Spec.Containers) > 0 {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == p.Spec.Containers[0].Name {
				pi.containerID = strings.TrimPrefix(cs.ContainerID, "containerd://")
				pi.restarts = int64(cs.RestartCount)
			}
		}
	}
	return pi
}

// podsOf are the pods the selector selects, by name.
func (s *state) podsOf(selector string) []podInfo {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil
	}
	var out []podInfo
	for _, p := range s.pods {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, podInfoOf(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// gone says whether no pod has that UID: a StatefulSet's replacement takes its predecessor's
// name at once, so the name alone would never be seen gone.
func (s *state) gone(uid string) bool {
	_, ok := s.pods[types.UID(uid)]
	return !ok
}

// controllers are the workload's Deployments' and StatefulSets' desired and available replicas.
func (s *state) controllers(w workload) (desired, available []int64) {
	for _, d := range s.deployments {
		if matches(w.selector, d.Labels) {
			desired, available = append(desired, replicasOf(d.Spec.Replicas)), append(available, int64(d.Status.AvailableReplicas))
		}
	}
	for _, st := range s.statefulSets {
		if matches(w.selector, st.Labels) {
			desired, available = append(desired, replicasOf(st.Spec.Replicas)), append(available, int64(st.Status.AvailableReplicas))
		}
	}
	return desired, available
}

func replicasOf(r *int32) int64 {
	if r == nil {
		return 1
	}
	return int64(*r)
}

// desired is the replica count the workload's controllers want.
func (s *state) desired(w workload) int64 {
	want, _ := s.controllers(w)
	var n int64
	for _, d := range want {
		n += d
	}
	return n
}

// available is true when every controller of the workload reports all its replicas available
// (past minReadySeconds).
func (s *state) available(w workload) bool {
	want, have := s.controllers(w)
	for i := range want {
		if have[i] < want[i] {
			return false
		}
	}
	return len(want) > 0
}

// full is true when the workload has as many serving pods as it wants and no other pod (none
// starting, none going away), with every serving pod off the nodes in avoid; pods going away on
// those nodes are let be (on a lost node they stay until it comes back).
func (s *state) full(w workload, avoid ...string) bool {
	want := s.desired(w)
	if want == 0 {
		return false
	}
	n := int64(0)
	for _, p := range s.podsOf(w.selector) {
		avoided := false
		for _, a := range avoid {
			avoided = avoided || p.node == a
		}
		switch {
		case p.terminating && avoided:
		case p.terminating || !p.ready || avoided:
			return false
		default:
			n++
		}
	}
	return n == want
}

// nodeCondition is the node's Ready status ("True", "False", "Unknown"; "" if no such node)
// and whether it has the unreachable NoExecute taint.
func (s *state) nodeCondition(name string) (ready string, unreachable bool) {
	for _, n := range s.nodes {
		if n.Name != name {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = string(c.Status)
			}
		}
		for _, tn := range n.Spec.Taints {
			if tn.Key == corev1.TaintNodeUnreachable && tn.Effect == corev1.TaintEffectNoExecute {
				unreachable = true
			}
		}
	}
	return ready, unreachable
}

// hpa is the named HorizontalPodAutoscaler (nil if there is none).
func (s *state) hpa(name string) *autoscalingv2.HorizontalPodAutoscaler {
	for _, h := range s.hpas {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// deployment is the named Deployment (nil if there is none).
func (s *state) deployment(name string) *appsv1.Deployment {
	for _, d := range s.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// view keeps a state current by watches (every event of every kind, every ResourceVersion) and
// judges milestones on it after each event (kubeclient.Milestones): the time a condition first
// holds is that event's arrival, and a condition that held for a moment between two samples is
// not missed.
type view struct {
	followers []*kubeclient.Follower

	mu      sync.Mutex
	state   *state
	waiting []*kubeclient.Milestones[*state]
}

// watchView starts a view; close it when done.
func watchView(t *testing.T, k *kubeclient.Client) *view {
	t.Helper()
	v := &view{state: newState()}
	for kind, lw := range listWatches(k) {
		f, err := kubeclient.Follow(context.Background(), lw, v.on)
		if err != nil {
			v.close()
		}
		require.NoError(t, err, "watch %s", kind)
		v.followers = append(v.followers, f)
	}
	return v
}

func (v *view) on(e kubeclient.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.state.apply(e)
	for _, m := range v.waiting {
		m.Advance(v.state, e.At)
	}
}

func (v *view) close() {
	for _, f := range v.followers {
		f.Close()
	}
}

// expect arms milestones from now, judged on the current state first.
func (v *view) expect(conds ...func(*state) bool) *kubeclient.Milestones[*state] {
	m := kubeclient.NewMilestones(conds...)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.waiting = append(v.waiting, m)
	m.Advance(v.state, time.Now())
	return m
}

// read runs f on the current state.
func (v *view) read(f func(*state)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(v.state)
}

// waitState follows the state by watches until cond holds (checked on the lists, then after
// every event) and returns when it first held; it fails the test after timeout.
func waitState(t *testing.T, k *kubeclient.Client, timeout time.Duration, cond func(*state) bool, msgAndArgs ...any) time.Time {
	t.Helper()
	v := watchView(t, k)
	defer v.close()
	m := v.expect(cond)
	start := time.Now()
	require.True(t, m.Wait(timeout), msgAndArgs...)
	return start.Add(m.Since(0, start))
}
