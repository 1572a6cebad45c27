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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
)

// tracker follows a workload's pods and its Service's EndpointSlices by watches (every event
// of each): what the rollout looked like, and when each pod was going away (the windows
// failures are judged in).
type tracker struct {
	ns, selector, service string
	start                 time.Time
	followers             []*kubeclient.Follower

	mu        sync.Mutex
	following bool // both watches started: every event after is a sample
	pods      map[types.UID]*corev1.Pod
	slices    map[types.UID]*discoveryv1.EndpointSlice
	samples   []trackSample
	deleting  map[types.UID]time.Time
	gone      map[types.UID]time.Time
}

type trackSample struct {
	at                            time.Duration
	event                         string
	line                          string
	pods, serving, readyEndpoints int
}

// track starts following the pods labelled app.kubernetes.io/name=name and the endpoints of
// Service service.
func track(t *testing.T, k *kubeclient.Client, ns, name, service string) *tracker {
	return trackSelector(t, k, ns, "app.kubernetes.io/name="+name, service)
}

// trackSelector starts following the pods that match a label selector and the EndpointSlices of
// Service service.
func trackSelector(t *testing.T, k *kubeclient.Client, ns, selector, service string) *tracker {
	t.Helper()
	tr := &tracker{ns: ns, selector: selector, service: service, start: time.Now(),
		pods: map[types.UID]*corev1.Pod{}, slices: map[types.UID]*discoveryv1.EndpointSlice{},
		deleting: map[types.UID]time.Time{}, gone: map[types.UID]time.Time{}}
	ctx := context.Background()
	slices, err := kubeclient.Follow(ctx, kubeclient.ListWatch(k.Clientset.DiscoveryV1().RESTClient(), "endpointslices", ns,
		discoveryv1.LabelServiceName+"="+service, ""), tr.on)
	require.NoError(t, err)
	pods, err := kubeclient.Follow(ctx, kubeclient.ListWatch(k.Clientset.CoreV1().RESTClient(), "pods", ns, selector, ""), tr.on)
	if err != nil {
		slices.Close()
	}
	require.NoError(t, err)
	tr.followers = []*kubeclient.Follower{slices, pods}
	tr.mu.Lock()
	tr.following = true
	tr.sample(time.Now(), "start")
	tr.mu.Unlock()
	return tr
}

// on takes one event of either watch and records the state after it.
func (tr *tracker) on(e kubeclient.Event) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	m := e.Meta()
	uid := m.GetUID()
	switch o := e.Object.(type) {
	case *corev1.Pod:
		// By UID: a StatefulSet's replacement pod has its predecessor's name.
		if e.Type == watch.Deleted {
			delete(tr.pods, uid)
			if _, ok := tr.gone[uid]; !ok {
				tr.gone[uid] = e.At
			}
		} else {
			tr.pods[uid] = o
		}
		if o.DeletionTimestamp != nil {
			if _, ok := tr.deleting[uid]; !ok {
				tr.deleting[uid] = e.At
			}
		}
	case *discoveryv1.EndpointSlice:
		if e.Type == watch.Deleted {
			delete(tr.slices, uid)
		} else {
			tr.slices[uid] = o
		}
	default:
		return
	}
	if tr.following {
		tr.sample(e.At, fmt.Sprintf("%s %s@%s", e.Type, m.GetName(), m.GetResourceVersion()))
	}
}

// sample records the state as of now; tr.mu is held.
func (tr *tracker) sample(now time.Time, event string) {
	s := trackSample{at: now.Sub(tr.start), event: event, pods: len(tr.pods)}
	for _, sl := range tr.slices {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				s.readyEndpoints++
			}
		}
	}
	var parts []string
	for _, p := range tr.pods {
		state := "starting"
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				state = "ready"
			}
		}
		if p.DeletionTimestamp != nil {
			state = "terminating"
		} else if state == "ready" {
			s.serving++
		}
		image := ""
		if len(p.Spec.Containers) > 0 {
			image = p.Spec.Containers[0].Image
			image = image[strings.LastIndex(image, ":")+1:]
		}
		node := p.Spec.NodeName
		if i := strings.LastIndex(node, "-"); i >= 0 {
			node = node[i+1:]
		}
		parts = append(parts, fmt.Sprintf("%s(%s@%s) %s", p.Name[len(p.Name)-5:], image, node, state))
	}
	sort.Strings(parts)
	s.line = fmt.Sprintf("pods=%d serving=%d endpoints-ready=%d  %s", s.pods, s.serving, s.readyEndpoints, strings.Join(parts, ", "))
	tr.samples = append(tr.samples, s)
}

// Stop waits until both watches have caught up with the API server, then ends them.
func (tr *tracker) Stop(t *testing.T) {
	t.Helper()
	for _, f := range tr.followers {
		assert.NoError(t, f.Stop(30*time.Second), "tracker of %s", tr.selector)
	}
}

// windows are the intervals in which some pod was terminating (from its deletion until it was
// gone from the API), with two seconds either side for endpoints and kube-proxy to catch up.
func (tr *tracker) windows() []window {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []window
	for uid, from := range tr.deleting {
		to, ok := tr.gone[uid]
		if !ok {
			to = time.Now()
		}
		out = append(out, window{from: from.Add(-2 * time.Second), to: to.Add(2 * time.Second)})
	}
	return out
}

// terminated counts the pods seen going away.
func (tr *tracker) terminated() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.deleting)
}

// minReadyEndpoints is the fewest ready endpoints of the Service after any event, and maxPods
// the most pods after any event.
func (tr *tracker) minReadyEndpoints() (min, maxPods int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	min = -1
	for _, s := range tr.samples {
		if min < 0 || s.readyEndpoints < min {
			min = s.readyEndpoints
		}
		if s.pods > maxPods {
			maxPods = s.pods
		}
	}
	return min, maxPods
}

func (tr *tracker) print(title string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fmt.Printf("ROLLOUT TRACE %s (t since the watches started; every event that changed the line)\n", title)
	last := ""
	for _, s := range tr.samples {
		if s.line != last {
			fmt.Printf("  %7.2fs %s\n", s.at.Seconds(), s.line)
			last = s.line
		}
	}
}
